package plan

import (
	"fmt"
	"runtime"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-runner/sluice/runner/wire"
)

// Options tune planning.
type Options struct {
	// Parallelism is the default number of subtasks per stage (0: number of CPUs).
	Parallelism int
	// MaxParallelism is the number of key groups (0: 128).
	MaxParallelism int
	// StatefulParallelism is the number of subtasks of a stage that runs a DoFn with user
	// state or timers (0: StatefulSubtasksPerCPU per CPU, at least Parallelism, at most
	// MaxParallelism). See StatefulSubtasksPerCPU for why it differs from Parallelism.
	StatefulParallelism int
}

// StatefulSubtasksPerCPU is how many subtasks per CPU a stateful SDK stage gets unless told
// otherwise. An SDK waits for the answer to each user-state read and write before it goes on
// (the Go SDK caches no user state: a value-state read-modify-write is three round trips
// per element), so one bundle keeps neither the SDK nor the runner busy: a subtask's
// throughput is bound by round-trip latency, not CPU. Several subtasks run their bundles on
// the SDK concurrently and fill that latency. Measured on 2 CPUs (200K elements over 200K
// keys on Pebble, the stateful count of testdata/statefulcount): 2 subtasks 80 s, 8 33 s,
// 32 20 s, 64 16 s.
const StatefulSubtasksPerCPU = 16

// Plan validates p and turns it into a JobGraph. The pipeline is not modified. Errors name
// the transform, coder or PCollection at fault and say what is wrong.
func Plan(p *pipepb.Pipeline, opts Options) (*JobGraph, error) {
	if p == nil || p.GetComponents() == nil {
		return nil, fmt.Errorf("the pipeline is empty: it has no components")
	}
	if len(p.GetRootTransformIds()) == 0 {
		return nil, fmt.Errorf("the pipeline has no root transforms")
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = runtime.NumCPU()
	}
	if opts.MaxParallelism <= 0 {
		opts.MaxParallelism = 128
	}
	if opts.Parallelism > opts.MaxParallelism {
		return nil, fmt.Errorf("parallelism %d exceeds max parallelism %d", opts.Parallelism, opts.MaxParallelism)
	}
	if opts.StatefulParallelism <= 0 {
		opts.StatefulParallelism = min(opts.MaxParallelism, max(opts.Parallelism, StatefulSubtasksPerCPU*runtime.NumCPU()))
	}
	if opts.StatefulParallelism > opts.MaxParallelism {
		return nil, fmt.Errorf("stateful parallelism %d exceeds max parallelism %d", opts.StatefulParallelism, opts.MaxParallelism)
	}
	if err := checkRequirements(p); err != nil {
		return nil, err
	}
	comps := proto.Clone(p.GetComponents()).(*pipepb.Components)
	ensureMaps(comps)
	lp, err := collectLeaves(p, comps)
	if err != nil {
		return nil, err
	}
	if err := validateLeaves(lp); err != nil {
		return nil, err
	}
	f := &fuser{lp: lp, parallelism: opts.Parallelism, statefulParallelism: opts.StatefulParallelism, stageOf: map[string]*Stage{}}
	if err := f.fuse(); err != nil {
		return nil, err
	}
	g := &JobGraph{Components: comps, Stages: f.stages, Edges: f.edges, MaxParallelism: opts.MaxParallelism, PortCoders: map[string]string{}}
	if err := describe(g, lp); err != nil {
		return nil, err
	}
	return g, nil
}

func ensureMaps(c *pipepb.Components) {
	if c.Transforms == nil {
		c.Transforms = map[string]*pipepb.PTransform{}
	}
	if c.Pcollections == nil {
		c.Pcollections = map[string]*pipepb.PCollection{}
	}
	if c.Coders == nil {
		c.Coders = map[string]*pipepb.Coder{}
	}
	if c.WindowingStrategies == nil {
		c.WindowingStrategies = map[string]*pipepb.WindowingStrategy{}
	}
	if c.Environments == nil {
		c.Environments = map[string]*pipepb.Environment{}
	}
}

func checkRequirements(p *pipepb.Pipeline) error {
	for _, r := range p.GetRequirements() {
		if !supportedRequirements[r] {
			return fmt.Errorf("the pipeline requires %q, which Sluice does not support yet", r)
		}
	}
	return nil
}

// validateLeaves refuses transforms Sluice cannot run, naming them.
func validateLeaves(lp *leafPipeline) error {
	for _, id := range lp.order {
		t := lp.leaves[id]
		urn := t.GetSpec().GetUrn()
		switch {
		case urn == urnImpulse || urn == urnFlatten || urn == urnGBK:
		case urn == urnTestStream:
			if _, err := testStreamPayload(t); err != nil {
				return err
			}
		case sdkTransformURNs[urn]:
			env := t.GetEnvironmentId()
			if env == "" {
				return fmt.Errorf("transform %q (%s) has no environment to run in", t.GetUniqueName(), urn)
			}
			if _, ok := lp.comps.GetEnvironments()[env]; !ok {
				return fmt.Errorf("transform %q (%s) names environment %q, which is not defined", t.GetUniqueName(), urn, env)
			}
			if urn == urnParDo {
				if err := validateParDo(lp.comps, t); err != nil {
					return err
				}
			}
		case urn == "":
			return fmt.Errorf("transform %q has no URN", t.GetUniqueName())
		default:
			return fmt.Errorf("transform %q has URN %q, which Sluice does not know", t.GetUniqueName(), urn)
		}
	}
	return nil
}

func validateParDo(comps *pipepb.Components, t *pipepb.PTransform) error {
	var pd pipepb.ParDoPayload
	if err := proto.Unmarshal(t.GetSpec().GetPayload(), &pd); err != nil {
		return fmt.Errorf("transform %q (%s): bad ParDoPayload: %w", t.GetUniqueName(), urnParDo, err)
	}
	if err := validateTimerFamilies(comps, t, &pd); err != nil {
		return err
	}
	if f := pd.GetOnWindowExpirationTimerFamilySpec(); f != "" {
		return fmt.Errorf("transform %q asks for OnWindowExpiration (timer family %q), which Sluice does not support yet", t.GetUniqueName(), f)
	}
	for _, id := range sortedKeys(pd.GetStateSpecs()) {
		spec := pd.GetStateSpecs()[id]
		switch u := spec.GetProtocol().GetUrn(); u {
		case urnUserStateBag, urnUserStateMultimap:
		case urnUserStateOrderedList:
			// The runner cuts appended entries apart, so it must be able to read the value coder.
			if _, err := wire.NewCodec(comps, spec.GetOrderedListSpec().GetElementCoderId()); err != nil {
				return fmt.Errorf("transform %q: ordered list state %q: %w", t.GetUniqueName(), id, err)
			}
		default:
			return fmt.Errorf("transform %q: user state %q uses protocol %q, which Sluice does not support yet", t.GetUniqueName(), id, u)
		}
	}
	return nil
}

// isStateful says whether a transform is a ParDo with user state or timers: its input
// must then be partitioned by key, and it starts a stage.
func isStateful(t *pipepb.PTransform) bool {
	if t.GetSpec().GetUrn() != urnParDo {
		return false
	}
	var pd pipepb.ParDoPayload
	if err := proto.Unmarshal(t.GetSpec().GetPayload(), &pd); err != nil {
		return false // refused by validation
	}
	return len(pd.GetStateSpecs()) > 0 || len(pd.GetTimerFamilySpecs()) > 0
}

// UserStateIDs returns the user state ids of the stage's transforms, by transform id (none
// for a stage without user state).
func (s *Stage) UserStateIDs() map[string][]string {
	out := map[string][]string{}
	for id, t := range s.Descriptor.GetTransforms() {
		if t.GetSpec().GetUrn() != urnParDo {
			continue
		}
		var pd pipepb.ParDoPayload
		if proto.Unmarshal(t.GetSpec().GetPayload(), &pd) != nil || len(pd.GetStateSpecs()) == 0 {
			continue
		}
		out[id] = sortedKeys(pd.GetStateSpecs())
	}
	return out
}

// OrderedListCoders returns the element coder id of every ordered-list state of the
// stage's transforms, by transform id + "/" + state id.
func (s *Stage) OrderedListCoders() map[string]string {
	out := map[string]string{}
	if s.Descriptor == nil {
		return out
	}
	for id, t := range s.Descriptor.GetTransforms() {
		if t.GetSpec().GetUrn() != urnParDo {
			continue
		}
		var pd pipepb.ParDoPayload
		if proto.Unmarshal(t.GetSpec().GetPayload(), &pd) != nil {
			continue
		}
		for sid, spec := range pd.GetStateSpecs() {
			if ol := spec.GetOrderedListSpec(); ol != nil && spec.GetProtocol().GetUrn() == urnUserStateOrderedList {
				out[id+"/"+sid] = ol.GetElementCoderId()
			}
		}
	}
	return out
}
