package plan

import (
	"fmt"
	"sort"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/shuffle"
)

// leafPipeline is the pipeline reduced to the leaf transforms Sluice executes, after combiner
// lifting and SDF expansion. Transforms maps id -> transform (leaves only).
type leafPipeline struct {
	comps  *pipepb.Components
	leaves map[string]*pipepb.PTransform
	// order is a topological order of leaves (producers before consumers).
	order []string
	// producer maps a PCollection id to the leaf transform that outputs it.
	producer map[string]string
	// consumers maps a PCollection id to the leaves reading it (main or side input).
	consumers map[string][]string
	// forcedRoots are leaves that must start a stage and how their input is partitioned.
	forcedRoots map[string]shuffle.Partitioning
	// drains maps an SDF's process step to the steps that replace it when draining.
	drains map[string]drainSteps
}

// drainSteps are the transforms (not leaves) an SDF stage runs while the job drains.
type drainSteps struct {
	truncate, process string
	truncatedPC       string
}

// collectLeaves walks the transform hierarchy from the roots, lifting combiners and
// replacing composites by their leaves. comps is mutated (it is the planner's own copy).
func collectLeaves(p *pipepb.Pipeline, comps *pipepb.Components) (*leafPipeline, error) {
	lp := &leafPipeline{
		comps:       comps,
		leaves:      map[string]*pipepb.PTransform{},
		producer:    map[string]string{},
		consumers:   map[string][]string{},
		forcedRoots: map[string]shuffle.Partitioning{},
		drains:      map[string]drainSteps{},
	}
	var walk func(id string) error
	walk = func(id string) error {
		t, ok := comps.GetTransforms()[id]
		if !ok {
			return fmt.Errorf("transform %q is referenced but not defined", id)
		}
		if t.GetSpec().GetUrn() == urnCombinePerKey && (liftable(comps, t) || len(t.GetSubtransforms()) == 0) {
			return lp.liftCombine(id, t)
		}
		if len(t.GetSubtransforms()) > 0 {
			for _, sub := range t.GetSubtransforms() {
				if err := walk(sub); err != nil {
					return err
				}
			}
			return nil
		}
		lp.leaves[id] = t
		return nil
	}
	for _, r := range p.GetRootTransformIds() {
		if err := walk(r); err != nil {
			return nil, err
		}
	}
	for _, id := range sortedKeys(lp.leaves) {
		t := lp.leaves[id]
		if t.GetSpec().GetUrn() == urnParDo {
			if err := lp.expandSDF(id, t); err != nil {
				return nil, err
			}
		}
	}
	if err := lp.index(); err != nil {
		return nil, err
	}
	return lp, nil
}

// liftable reports whether a combine_per_key may be lifted: combining values ahead of the
// GroupByKey fits only the default trigger, which fires each window's values once (under
// trigger Always, for one, every value is a pane of its own). Otherwise the composite's own
// expansion (GroupByKey, then a ParDo that combines each group) runs.
func liftable(comps *pipepb.Components, t *pipepb.PTransform) bool {
	in, err := singleValue(t.GetInputs())
	if err != nil {
		return true // liftCombine reports it
	}
	ws := comps.GetWindowingStrategies()[comps.GetPcollections()[in].GetWindowingStrategyId()]
	switch ws.GetTrigger().GetTrigger().(type) {
	case nil, *pipepb.Trigger_Default_:
		return true
	default:
		return false
	}
}

// liftCombine replaces a combine_per_key composite by precombine -> GBK -> merge -> extract,
// so that values are combined before the shuffle.
func (lp *leafPipeline) liftCombine(id string, t *pipepb.PTransform) error {
	var cp pipepb.CombinePayload
	if err := proto.Unmarshal(t.GetSpec().GetPayload(), &cp); err != nil {
		return fmt.Errorf("transform %q (%s): bad CombinePayload: %w", t.GetUniqueName(), urnCombinePerKey, err)
	}
	in, err := singleValue(t.GetInputs())
	if err != nil {
		return fmt.Errorf("transform %q (%s): %w", t.GetUniqueName(), urnCombinePerKey, err)
	}
	out, err := singleValue(t.GetOutputs())
	if err != nil {
		return fmt.Errorf("transform %q (%s): %w", t.GetUniqueName(), urnCombinePerKey, err)
	}
	comps := lp.comps
	inPC := comps.GetPcollections()[in]
	if inPC == nil {
		return fmt.Errorf("transform %q: input PCollection %q is not defined", t.GetUniqueName(), in)
	}
	keyCoder, err := kvComponent(comps, inPC.GetCoderId(), 0)
	if err != nil {
		return fmt.Errorf("transform %q (%s): input coder: %w", t.GetUniqueName(), urnCombinePerKey, err)
	}
	accKV := addCoder(comps, id+"/accKV", &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: wire.URNKV}, ComponentCoderIds: []string{keyCoder, cp.GetAccumulatorCoderId()}})
	accIter := addCoder(comps, id+"/accIter", &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: wire.URNIterable}, ComponentCoderIds: []string{cp.GetAccumulatorCoderId()}})
	groupedKV := addCoder(comps, id+"/groupedKV", &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: wire.URNKV}, ComponentCoderIds: []string{keyCoder, accIter}})
	partial := addPCollectionLike(comps, id, t, "partial", accKV, inPC)
	grouped := addPCollectionLike(comps, id, t, "grouped", groupedKV, inPC)
	merged := addPCollectionLike(comps, id, t, "merged", accKV, inPC)
	env := t.GetEnvironmentId()
	mk := func(suffix, urn, input, output string, payload []byte, environment string) {
		tid := id + "/" + suffix
		nt := &pipepb.PTransform{
			UniqueName:    t.GetUniqueName() + "/" + suffix,
			Spec:          &pipepb.FunctionSpec{Urn: urn, Payload: payload},
			Inputs:        map[string]string{"i0": input},
			Outputs:       map[string]string{"i0": output},
			EnvironmentId: environment,
		}
		comps.Transforms[tid] = nt
		lp.leaves[tid] = nt
	}
	payload := t.GetSpec().GetPayload()
	mk("precombine", urnCombinePrecombine, in, partial, payload, env)
	mk("group", urnGBK, partial, grouped, nil, "")
	mk("merge", urnCombineMerge, grouped, merged, payload, env)
	mk("extract", urnCombineExtract, merged, out, payload, env)
	return nil
}

// expandSDF replaces a splittable ParDo by pair-with-restriction -> split-and-size ->
// process-sized-elements, with a round-robin break before processing so that the initial
// splits spread over subtasks.
func (lp *leafPipeline) expandSDF(id string, t *pipepb.PTransform) error {
	var pd pipepb.ParDoPayload
	if err := proto.Unmarshal(t.GetSpec().GetPayload(), &pd); err != nil {
		return fmt.Errorf("transform %q (%s): bad ParDoPayload: %w", t.GetUniqueName(), urnParDo, err)
	}
	if pd.GetRestrictionCoderId() == "" {
		return nil
	}
	comps := lp.comps
	main, err := mainInput(t, &pd)
	if err != nil {
		return fmt.Errorf("transform %q: %w", t.GetUniqueName(), err)
	}
	inPC := comps.GetPcollections()[main.pcoll]
	if inPC == nil {
		return fmt.Errorf("transform %q: input PCollection %q is not defined", t.GetUniqueName(), main.pcoll)
	}
	double := addCoder(comps, "sluice/double", &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: wire.URNDouble}})
	pairCoder := addCoder(comps, id+"/pairKV", &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: wire.URNKV}, ComponentCoderIds: []string{inPC.GetCoderId(), pd.GetRestrictionCoderId()}})
	sizedCoder := addCoder(comps, id+"/sizedKV", &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: wire.URNKV}, ComponentCoderIds: []string{pairCoder, double}})
	paired := addPCollectionLike(comps, id, t, "paired", pairCoder, inPC)
	sized := addPCollectionLike(comps, id, t, "sized", sizedCoder, inPC)
	step := func(suffix, urn, input string, outputs map[string]string, leaf bool) string {
		tid := id + "/" + suffix
		inputs := map[string]string{}
		for k, v := range t.GetInputs() {
			inputs[k] = v
		}
		inputs[main.local] = input
		nt := proto.Clone(t).(*pipepb.PTransform)
		nt.UniqueName = t.GetUniqueName() + "/" + suffix
		nt.Spec = &pipepb.FunctionSpec{Urn: urn, Payload: t.GetSpec().GetPayload()}
		nt.Inputs = inputs
		nt.Outputs = outputs
		comps.Transforms[tid] = nt
		if leaf {
			lp.leaves[tid] = nt
		}
		return tid
	}
	step("pair", urnSDFPairWithRestriction, main.pcoll, map[string]string{"i0": paired}, true)
	step("split", urnSDFSplitAndSize, paired, map[string]string{"i0": sized}, true)
	process := step("process", urnSDFProcessSized, sized, t.GetOutputs(), true)
	// When the job drains, the same stage runs truncate -> process instead, so that what
	// is left of each restriction is cut to what the DoFn allows before it is processed.
	truncated := addPCollectionLike(comps, id, t, "truncated", sizedCoder, inPC)
	lp.drains[process] = drainSteps{
		truncate:    step("truncate", urnSDFTruncateSized, sized, map[string]string{"i0": truncated}, false),
		process:     step("process-truncated", urnSDFProcessSized, truncated, t.GetOutputs(), false),
		truncatedPC: truncated,
	}
	lp.forcedRoots[process] = shuffle.RoundRobin
	delete(lp.leaves, id)
	return nil
}

type inputRef struct{ local, pcoll string }

// mainInput is the one input of a ParDo that is not a side input.
func mainInput(t *pipepb.PTransform, pd *pipepb.ParDoPayload) (inputRef, error) {
	var found []inputRef
	for local, pc := range t.GetInputs() {
		if _, side := pd.GetSideInputs()[local]; side {
			continue
		}
		found = append(found, inputRef{local, pc})
	}
	if len(found) != 1 {
		return inputRef{}, fmt.Errorf("a ParDo needs exactly one main input, found %d", len(found))
	}
	return found[0], nil
}

// index builds producer/consumer maps and a deterministic topological order.
func (lp *leafPipeline) index() error {
	for _, id := range sortedKeys(lp.leaves) {
		for _, pc := range lp.leaves[id].GetOutputs() {
			if prev, dup := lp.producer[pc]; dup {
				return fmt.Errorf("PCollection %q is produced by both %q and %q", pc, prev, id)
			}
			lp.producer[pc] = id
		}
	}
	indeg := map[string]int{}
	for _, id := range sortedKeys(lp.leaves) {
		for _, pc := range sortedValues(lp.leaves[id].GetInputs()) {
			if _, ok := lp.comps.GetPcollections()[pc]; !ok {
				return fmt.Errorf("transform %q reads PCollection %q, which is not defined", lp.leaves[id].GetUniqueName(), pc)
			}
			if _, ok := lp.producer[pc]; !ok {
				return fmt.Errorf("transform %q reads PCollection %q, which no transform produces", lp.leaves[id].GetUniqueName(), pc)
			}
			lp.consumers[pc] = append(lp.consumers[pc], id)
			indeg[id]++
		}
	}
	var ready []string
	for _, id := range sortedKeys(lp.leaves) {
		if indeg[id] == 0 {
			ready = append(ready, id)
		}
	}
	for len(ready) > 0 {
		id := ready[0]
		ready = ready[1:]
		lp.order = append(lp.order, id)
		for _, pc := range sortedValues(lp.leaves[id].GetOutputs()) {
			for _, c := range lp.consumers[pc] {
				indeg[c]--
				if indeg[c] == 0 {
					ready = append(ready, c)
				}
			}
		}
	}
	if len(lp.order) != len(lp.leaves) {
		return fmt.Errorf("the pipeline has a cycle")
	}
	return nil
}

// addPCollectionLike adds the PCollection id/suffix, produced by a step the planner inserts
// into transform t, with the given coder and the boundedness and windowing of like.
func addPCollectionLike(comps *pipepb.Components, id string, t *pipepb.PTransform, suffix, coder string, like *pipepb.PCollection) string {
	pid := id + "/" + suffix
	comps.Pcollections[pid] = &pipepb.PCollection{
		UniqueName:          t.GetUniqueName() + "/" + suffix,
		CoderId:             coder,
		IsBounded:           like.GetIsBounded(),
		WindowingStrategyId: like.GetWindowingStrategyId(),
	}
	return pid
}

func singleValue(m map[string]string) (string, error) {
	if len(m) != 1 {
		return "", fmt.Errorf("expected exactly one PCollection, found %d", len(m))
	}
	for _, v := range m {
		return v, nil
	}
	return "", nil
}

func kvComponent(comps *pipepb.Components, coderID string, i int) (string, error) {
	c := comps.GetCoders()[coderID]
	if c == nil {
		return "", fmt.Errorf("coder %q is not defined", coderID)
	}
	if c.GetSpec().GetUrn() != wire.URNKV || len(c.GetComponentCoderIds()) != 2 {
		return "", fmt.Errorf("coder %q (%s) is not a KV coder", coderID, c.GetSpec().GetUrn())
	}
	return c.GetComponentCoderIds()[i], nil
}

// addCoder adds c under id unless an equal coder is already there; it returns the id.
func addCoder(comps *pipepb.Components, id string, c *pipepb.Coder) string {
	if old, ok := comps.Coders[id]; ok && proto.Equal(old, c) {
		return id
	}
	base, n := id, 1
	for {
		if _, taken := comps.Coders[id]; !taken {
			comps.Coders[id] = c
			return id
		}
		n++
		id = fmt.Sprintf("%s#%d", base, n)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}
