package plan

import (
	"fmt"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/shuffle"
)

// StageKind says which operator runs a stage.
type StageKind int

const (
	// KindImpulse emits the single empty element of beam:transform:impulse:v1.
	KindImpulse StageKind = iota
	// KindSDK is a fused run of transforms executed by an SDK harness.
	KindSDK
	// KindGroupByKey is the runner's keyed, windowed grouping.
	KindGroupByKey
	// KindTestStream replays the events of beam:transform:teststream:v1.
	KindTestStream
)

func (k StageKind) String() string {
	switch k {
	case KindImpulse:
		return "impulse"
	case KindSDK:
		return "sdk"
	case KindGroupByKey:
		return "gbk"
	case KindTestStream:
		return "teststream"
	}
	return fmt.Sprintf("StageKind(%d)", int(k))
}

// JobGraph is the planned job: stages and the edges that connect them.
type JobGraph struct {
	// Components holds every coder, PCollection, windowing strategy and environment the
	// stages refer to, including the ones the planner added (length-prefixed coders,
	// lifted-combine and SDF PCollections).
	Components *pipepb.Components
	Stages     []*Stage
	Edges      []*Edge
	// MaxParallelism is the number of key groups.
	MaxParallelism int
	// PortCoders maps every PCollection that crosses a stage boundary to the
	// windowed_value coder both ends use on the wire: unknown coders length-prefixed.
	PortCoders map[string]string
}

// Stage is one operator chain; at run time it becomes Parallelism tasks.
type Stage struct {
	ID          string
	Kind        StageKind
	Parallelism int
	// Transforms are the pipeline's leaf transform ids this stage executes, in topological order.
	Transforms []string
	// Input is the PCollection the stage reads (empty for Impulse). Several edges may feed it
	// (a Flatten becomes several edges into one input).
	Input string
	// Outputs are the PCollections produced here and consumed by other stages.
	Outputs []string
	// EnvironmentID is the SDK environment of an SDK stage.
	EnvironmentID string

	// SDK stages only.
	Descriptor *fnpb.ProcessBundleDescriptor
	// DrainDescriptor, set for a stage that processes a splittable DoFn, is the
	// descriptor to run once the job drains: it truncates each restriction first.
	DrainDescriptor *fnpb.ProcessBundleDescriptor
	// SourceTransformID is the descriptor's data source transform.
	SourceTransformID string
	// SinkTransformIDs maps an output PCollection to the descriptor's data sink transform.
	SinkTransformIDs map[string]string
	// SideInputs lists the side inputs of the stage's transforms.
	SideInputs []SideInput
	// TimerFamilies lists the timer families of the stage's transforms.
	TimerFamilies []TimerFamily

	// GroupByKey stages only.
	WindowingStrategyID string

	// TestStream stages only.
	TestStream *TestStreamSource
}

// HasTestStream says whether the job replays a TestStream: its processing time is then
// the TestStream's clock, not the wall clock.
func (g *JobGraph) HasTestStream() bool {
	for _, s := range g.Stages {
		if s.Kind == KindTestStream {
			return true
		}
	}
	return false
}

// SideInput is one side input of a transform in an SDK stage.
type SideInput struct {
	TransformID string
	LocalName   string
	PCollection string // as seen by the SDK: may be a length-prefixed copy of the producer's
	// Multimap is true for beam:side_input:multimap:v1 (KV lookups by key).
	Multimap bool
}

// Edge carries one PCollection from a producer stage to a consumer stage.
type Edge struct {
	From, To     string
	PCollection  string
	Partitioning shuffle.Partitioning
	// SideInput is set when the edge feeds a side input of the consumer (Broadcast).
	SideInput *SideInput
}

// Stage returns the stage with the given id, or nil.
func (g *JobGraph) Stage(id string) *Stage {
	for _, s := range g.Stages {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// InEdges returns the edges into stage id.
func (g *JobGraph) InEdges(id string) []*Edge {
	var out []*Edge
	for _, e := range g.Edges {
		if e.To == id {
			out = append(out, e)
		}
	}
	return out
}

// OutEdges returns the edges leaving stage id.
func (g *JobGraph) OutEdges(id string) []*Edge {
	var out []*Edge
	for _, e := range g.Edges {
		if e.From == id {
			out = append(out, e)
		}
	}
	return out
}
