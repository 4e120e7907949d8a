package plan

import (
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-runner/sluice/shuffle"
)

// fuser assigns leaf transforms to stages and connects the stages with edges.
type fuser struct {
	lp                  *leafPipeline
	parallelism         int
	statefulParallelism int
	stages              []*Stage
	edges               []*Edge
	stageOf             map[string]*Stage // leaf id -> stage
}

// producerRef is a stage output that feeds an input, seen through any Flattens.
type producerRef struct {
	stage *Stage
	pcoll string
}

func (f *fuser) newStage(kind StageKind) *Stage {
	s := &Stage{ID: fmt.Sprintf("s%d", len(f.stages)), Kind: kind, Parallelism: f.parallelism}
	f.stages = append(f.stages, s)
	return s
}

// producers resolves pc to the stage outputs that make it up: a Flatten contributes every
// one of its inputs (recursively), anything else is the stage of its producing transform.
func (f *fuser) producers(pc string) ([]producerRef, error) {
	pid := f.lp.producer[pc]
	t := f.lp.leaves[pid]
	if t.GetSpec().GetUrn() != urnFlatten {
		s := f.stageOf[pid]
		if s == nil {
			return nil, fmt.Errorf("internal: producer %q of %q has no stage yet", pid, pc)
		}
		return []producerRef{{s, pc}}, nil
	}
	var out []producerRef
	for _, in := range sortedValues(t.GetInputs()) {
		refs, err := f.producers(in)
		if err != nil {
			return nil, err
		}
		out = append(out, refs...)
	}
	return out, nil
}

func (f *fuser) connect(to *Stage, pc string, part shuffle.Partitioning, side *SideInput) error {
	refs, err := f.producers(pc)
	if err != nil {
		return err
	}
	for _, r := range refs {
		f.edges = append(f.edges, &Edge{From: r.stage.ID, To: to.ID, PCollection: r.pcoll, Partitioning: part, SideInput: side})
	}
	return nil
}

func (f *fuser) fuse() error {
	for _, id := range f.lp.order {
		t := f.lp.leaves[id]
		switch urn := t.GetSpec().GetUrn(); {
		case urn == urnImpulse || urn == urnTestStream:
			// Sources of one subtask: an impulse is one element, a TestStream one ordered
			// sequence of elements and watermarks.
			s := f.newStage(KindImpulse)
			if urn == urnTestStream {
				s.Kind = KindTestStream
			}
			s.Parallelism = 1
			s.Transforms = []string{id}
			f.stageOf[id] = s
		case urn == urnFlatten:
			// Not a stage: consumers read every input of the Flatten.
		case urn == urnGBK:
			in, err := singleValue(t.GetInputs())
			if err != nil {
				return fmt.Errorf("transform %q (%s): %w", t.GetUniqueName(), urn, err)
			}
			s := f.newStage(KindGroupByKey)
			s.Transforms = []string{id}
			s.Input = in
			s.WindowingStrategyID = f.lp.comps.GetPcollections()[in].GetWindowingStrategyId()
			// The grouped PCollection is an output even when nothing reads it: the group
			// still has to run (and be encoded) for a pipeline that only groups.
			out, err := singleValue(t.GetOutputs())
			if err != nil {
				return fmt.Errorf("transform %q (%s): %w", t.GetUniqueName(), urn, err)
			}
			s.Outputs = []string{out}
			f.stageOf[id] = s
			if err := f.connect(s, in, shuffle.Hash, nil); err != nil {
				return err
			}
		case sdkTransformURNs[urn]:
			if err := f.fuseSDK(id, t); err != nil {
				return fmt.Errorf("transform %q (%s): %w", t.GetUniqueName(), urn, err)
			}
		default:
			return fmt.Errorf("transform %q: internal: unexpected URN %q after validation", t.GetUniqueName(), urn)
		}
	}
	for _, e := range f.edges {
		from := f.stageByID(e.From)
		if !contains(from.Outputs, e.PCollection) {
			from.Outputs = append(from.Outputs, e.PCollection)
		}
	}
	f.inheritParallelism()
	return nil
}

func (f *fuser) fuseSDK(id string, t *pipepb.PTransform) error {
	main, sides, err := f.inputsOf(t)
	if err != nil {
		return err
	}
	part, forced := f.lp.forcedRoots[id]
	stateful := !forced && isStateful(t)
	if stateful {
		// User state and timers are per key: the subtask that owns a key group owns its state.
		forced, part = true, shuffle.Hash
	}
	if !forced && len(sides) > 0 {
		// Side inputs gate the whole stage until they are ready: keep that gate off the
		// producer's stage, or the stage could wait on its own output.
		forced, part = true, shuffle.Forward
	}
	if !forced {
		if pid := f.lp.producer[main]; f.lp.leaves[pid].GetSpec().GetUrn() != urnFlatten {
			if s := f.stageOf[pid]; s != nil && s.Kind == KindSDK && s.EnvironmentID == t.GetEnvironmentId() {
				s.Transforms = append(s.Transforms, id)
				f.stageOf[id] = s
				return nil
			}
		}
	}
	s := f.newStage(KindSDK)
	if stateful {
		s.Parallelism = f.statefulParallelism
	}
	s.Transforms = []string{id}
	s.Input = main
	s.EnvironmentID = t.GetEnvironmentId()
	f.stageOf[id] = s
	if err := f.connect(s, main, part, nil); err != nil {
		return err
	}
	for _, si := range sides {
		si.TransformID = id
		s.SideInputs = append(s.SideInputs, si)
		edgeSide := si
		if err := f.connect(s, si.PCollection, shuffle.Broadcast, &edgeSide); err != nil {
			return err
		}
	}
	return nil
}

// inputsOf splits a transform's inputs into its main input and its side inputs.
func (f *fuser) inputsOf(t *pipepb.PTransform) (string, []SideInput, error) {
	if t.GetSpec().GetUrn() != urnParDo {
		in, err := singleValue(t.GetInputs())
		return in, nil, err
	}
	var pd pipepb.ParDoPayload
	if err := proto.Unmarshal(t.GetSpec().GetPayload(), &pd); err != nil {
		return "", nil, fmt.Errorf("bad ParDoPayload: %w", err)
	}
	main, err := mainInput(t, &pd)
	if err != nil {
		return "", nil, err
	}
	var sides []SideInput
	for _, local := range sortedKeys(pd.GetSideInputs()) {
		spec := pd.GetSideInputs()[local]
		pc, ok := t.GetInputs()[local]
		if !ok {
			return "", nil, fmt.Errorf("side input %q has no matching input", local)
		}
		var multimap bool
		switch u := spec.GetAccessPattern().GetUrn(); u {
		case urnSideInputIterable:
		case urnSideInputMultimap:
			multimap = true
		default:
			return "", nil, fmt.Errorf("side input %q: unsupported access pattern %q", local, u)
		}
		sides = append(sides, SideInput{LocalName: local, PCollection: pc, Multimap: multimap})
	}
	return main.pcoll, sides, nil
}

// inheritParallelism gives a stage fed only by Forward edges the parallelism of its
// producers: forwarding a single impulse subtask into many consumers leaves all but one idle.
func (f *fuser) inheritParallelism() {
	for _, s := range f.stages {
		if s.Kind == KindImpulse || s.Kind == KindTestStream {
			continue
		}
		maxP, allForward, any := 0, true, false
		for _, e := range f.edges {
			if e.To != s.ID || e.SideInput != nil {
				continue
			}
			any = true
			if e.Partitioning != shuffle.Forward {
				allForward = false
				break
			}
			if p := f.stageByID(e.From).Parallelism; p > maxP {
				maxP = p
			}
		}
		if any && allForward && maxP > 0 {
			s.Parallelism = maxP
		}
	}
}

func (f *fuser) stageByID(id string) *Stage {
	for _, s := range f.stages {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
