package gen

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/runner/plan"
)

// A chain is the plan of one SDK stage's generated code: the stage's transforms as typed
// steps, wired through the PCollections between them, fed by the stage's input edge and
// writing the stage's output edges. chainFor builds one when every part of the stage is
// covered (see coverage in doc.go), and otherwise says why not; chains_emit.go writes it.
type chain struct {
	name  string // Go identifier suffix: S1 for stage s1
	stage string // stage id
	input *pcoll // the stage's input, decoded by inCode
	// inCode is the input edge's typed coder; nil when the edge has none and the input is
	// coded with the SDK's coder (see chains_sdk.go).
	inCode *EdgeCoder
	// pcolls are the input and every PCollection a step produces, in production order:
	// each becomes a method that hands an element to its consumers.
	pcolls []*pcoll
	steps  []*step
	// outs are the stage's outputs' typed coders, in the planned stage's order (rt's
	// outs[i]); nil for an output coded with the SDK's coder.
	outs []*EdgeCoder
	// notes say which ports the SDK's coder codes, for the header.
	notes []string
}

// pcoll is one PCollection inside a chain.
type pcoll struct {
	id, name string
	idx      int             // its method is pcoll<idx>
	parts    []capture.Value // the element's Go values: one, or a KV's key and value, ...
	shape    *fvShape        // where the parts are in the SDK's FullValue (chains_sdk.go)
	// windowed is set when its elements are in interval windows rather than the global
	// window (chains_windowing.go).
	windowed bool
	// consumers are the steps reading it, in stage order; outIdx the stage outputs it is.
	consumers []*step
	outIdx    []int
	// producer and tag name it as the output of a transform (empty for the input): the
	// harness reports its element count under the PCollection id the runner's
	// descriptor gives that output.
	producer, tag string
}

type stepKind int

const (
	stepParDo stepKind = iota
	stepPrecombine
	stepMerge
	stepExtract
	stepCombine // a combine the planner did not lift: see chains_combine.go
	stepWindowInto
)

// step is one transform of the stage.
type step struct {
	idx  int // its method is step<idx>
	kind stepKind
	name string // the transform's unique name
	fn   string // the user function's symbol name
	// fnType is the function's declared type: its Go signature, and how it is stored when
	// it is resolved by name.
	fnType *goTyp
	in     *pcoll
	outs   []*pcoll // by output index: a ParDo's direct output first, then its emitters
	// ParDo only: the ProcessElement parameters' and results' kinds and declared types.
	params, results []sigPart
	// recv describes a struct DoFn or CombineFn (nil for a function): see chains_structs.go.
	recv *structFn
	// intrinsic, for an SDK function the generated code writes out, is what it returns.
	intrinsic *intrinsic
	// cg is what a CoGroupByKey's inject or expand codes: see chains_cogbk.go.
	cg *cogbkStep
	// sides are a ParDo's side inputs, in the order of its parameters (chains_side.go).
	sides []*sideIn
	// comb describes a combine step's CombineFn: see chains_combine.go.
	comb *combineFn
	// win is a WindowInto's window fn (chains_windowing.go).
	win *windowAssign
	// boxed says a ParDo is called with any values through the SDK's caller of it: it
	// takes, returns or makes values the generated package cannot name (chains_boxed.go).
	boxed bool
}

// sigPart is one parameter or result of a user function.
type sigPart struct {
	kind string // funcx's kind: Context, EventTime, Value, Iter, ReIter, MultiMap, Emit, Error
	typ  *goTyp
	out  int     // an emitter's output index
	side *sideIn // the side input a parameter reads (nil for the main input's)
}

// chainEnv is what chainFor looks things up in.
type chainEnv struct {
	comps    *pipepb.Components
	pardos   map[string]capture.Edge // capture edges by transform id
	combines map[string]capture.Edge // Combine edges by composite id
	vals     map[string]*capture.Value
	coders   map[string]*EdgeCoder // typed edge coders by PCollection id
	untyped  map[string]string     // why an edge's PCollection has none
}

// Why a transform kind is not covered yet, for the header.
const notCovered = "not covered yet"

// chainFor plans the chain of SDK stage s, or says why the stage stays portable.
func chainFor(env *chainEnv, s *plan.Stage) (*chain, string) {
	comps := env.comps
	pcName := func(id string) string {
		if pc := comps.GetPcollections()[id]; pc != nil {
			return pc.GetUniqueName()
		}
		return id
	}
	ch := &chain{name: strings.ToUpper(s.ID[:1]) + s.ID[1:], stage: s.ID}
	byID := map[string]*pcoll{}
	newPC := func(id string) (*pcoll, string) {
		windowed, why := windowing(comps, id)
		if why != "" {
			return nil, fmt.Sprintf("PCollection %s: %s", pcName(id), why)
		}
		v := env.vals[id]
		if v == nil {
			return nil, fmt.Sprintf("PCollection %s has no Go type in the capture (the SDK's marshalling or the planner made it)", pcName(id))
		}
		// Parts the generated package cannot name are held as any: checkHeld says
		// where they may go.
		parts, shape := partsOf(*v)
		pc := &pcoll{id: id, name: pcName(id), idx: len(ch.pcolls), parts: parts, shape: shape, windowed: windowed}
		ch.pcolls = append(ch.pcolls, pc)
		byID[id] = pc
		return pc, ""
	}

	ch.inCode = env.coders[s.Input]
	if ch.inCode == nil && env.vals[s.Input] == nil {
		return nil, fmt.Sprintf("input %s has no typed coder: %s", pcName(s.Input), env.untyped[s.Input])
	}
	var why string
	if ch.input, why = newPC(s.Input); why != "" {
		return nil, why
	}
	if ch.inCode == nil {
		if why := sdkCodable(ch.input); why != "" {
			return nil, fmt.Sprintf("input %s has no typed coder (%s) and %s", pcName(s.Input), env.untyped[s.Input], why)
		}
		ch.notes = append(ch.notes, sdkNote("input", ch.input))
	}
	for _, id := range s.Transforms {
		t := comps.GetTransforms()[id]
		st := &step{idx: len(ch.steps), name: t.GetUniqueName()}
		in, err := mainInput(t)
		if err != nil {
			return nil, fmt.Sprintf("transform %s: %v", st.name, err)
		}
		if st.in = byID[in]; st.in == nil {
			return nil, fmt.Sprintf("transform %s reads %s, which the stage does not produce before it", st.name, pcName(in))
		}
		var why string
		switch urn := t.GetSpec().GetUrn(); urn {
		case urnParDo:
			e := env.pardos[baseID(id)]
			switch {
			case goDoFnURN(t) == urnInject:
				why = env.inject(st, t)
			case goDoFnURN(t) == urnExpand:
				why = env.expand(st, t)
			case e.Op == "Combine":
				why = env.combineGrouped(st, e)
			default:
				why = env.parDo(st, id, t)
			}
		case urnPrecombine, urnMerge, urnExtract:
			why = env.combine(st, id, urn)
		case urnSDFPair, urnSDFSplit, urnSDFProcess:
			why = env.sdf(st, id, t, urn)
		case urnWindowInto:
			why = env.windowInto(st, t)
		default:
			why = fmt.Sprintf("transform %s (%s): %s", st.name, urn, notCovered)
		}
		if why != "" {
			return nil, why
		}
		for _, out := range outputsInOrder(t) {
			pc, why := newPC(out)
			if why != "" {
				return nil, why
			}
			// The SDK counts no elements between a merge and its extract, nor those of a
			// CoGroupByKey's expand: neither does the chain, so that a job's metrics read
			// the same native or portable.
			if st.kind != stepMerge && st.kind != stepExpand {
				pc.producer = st.name
			}
			for tag, id := range t.GetOutputs() {
				if id == out {
					pc.tag = tag
				}
			}
			st.outs = append(st.outs, pc)
		}
		if why := st.check(); why != "" {
			return nil, fmt.Sprintf("transform %s: %s", st.name, why)
		}
		if why := st.checkState(); why != "" {
			return nil, fmt.Sprintf("transform %s: %s", st.name, why)
		}
		if why := st.checkWindows(); why != "" {
			return nil, fmt.Sprintf("transform %s: %s", st.name, why)
		}
		st.intrinsic = intrinsicFor(st)
		if why := st.planBoxed(); why != "" {
			return nil, fmt.Sprintf("transform %s: %s", st.name, why)
		}
		st.in.consumers = append(st.in.consumers, st)
		ch.steps = append(ch.steps, st)
	}
	for i, out := range s.Outputs {
		pc := byID[out]
		ec := env.coders[out]
		switch {
		case pc == nil || pc == ch.input:
			return nil, fmt.Sprintf("output %s is not produced by a transform of the stage", pcName(out))
		case ec == nil && sdkCodable(pc) != "":
			return nil, fmt.Sprintf("output %s has no typed coder (%s) and %s", pcName(out), env.untyped[out], sdkCodable(pc))
		case ec == nil:
			ch.notes = append(ch.notes, sdkNote(fmt.Sprintf("output %d", i), pc))
		}
		pc.outIdx = append(pc.outIdx, i)
		ch.outs = append(ch.outs, ec)
	}
	if len(s.TimerFamilies) > 0 && len(ch.timerSteps()) == 0 {
		return nil, "timers" // the ParDos' payloads say so first; this guards the planner's view
	}
	if why := ch.checkHeld(); why != "" {
		return nil, why
	}
	return ch, ""
}

// mainInput is the one input of a transform that is not a ParDo's side input.
func mainInput(t *pipepb.PTransform) (string, error) {
	var sides map[string]*pipepb.SideInput
	if t.GetSpec().GetUrn() == urnParDo {
		var pd pipepb.ParDoPayload
		if err := proto.Unmarshal(t.GetSpec().GetPayload(), &pd); err != nil {
			return "", fmt.Errorf("bad ParDoPayload: %w", err)
		}
		sides = pd.GetSideInputs()
	}
	var ins []string
	for local, pc := range t.GetInputs() {
		if _, side := sides[local]; !side {
			ins = append(ins, pc)
		}
	}
	if len(ins) != 1 {
		return "", fmt.Errorf("%d main inputs, want 1", len(ins))
	}
	return ins[0], nil
}

// outputsInOrder lists a transform's outputs by output index: the Go SDK tags them i0,
// i1, ... in the order of the DoFn's outputs (direct output first, then emitters).
func outputsInOrder(t *pipepb.PTransform) []string {
	tags := make([]string, 0, len(t.GetOutputs()))
	for tag := range t.GetOutputs() {
		tags = append(tags, tag)
	}
	sort.Slice(tags, func(i, j int) bool {
		a, errA := strconv.Atoi(strings.TrimPrefix(tags[i], "i"))
		b, errB := strconv.Atoi(strings.TrimPrefix(tags[j], "i"))
		if errA != nil || errB != nil {
			return tags[i] < tags[j]
		}
		return a < b
	})
	outs := make([]string, len(tags))
	for i, tag := range tags {
		outs[i] = t.GetOutputs()[tag]
	}
	return outs
}

// shortFn is a user function's name as the header gives it: package name and symbol.
func shortFn(name string) string { return path.Base(name) }

// parDo fills a ParDo step from its capture edge, or says why it is not covered.
func (env *chainEnv) parDo(st *step, id string, t *pipepb.PTransform) string {
	e, ok := env.pardos[baseID(id)]
	if !ok || e.Fn == nil {
		return fmt.Sprintf("transform %s has no Go function in the capture (the SDK's marshalling made it)", st.name)
	}
	sdfProcess := st.kind == stepSDFProcess
	fn := e.Fn
	st.fn = fn.Name
	switch {
	case fn.Kind != "func" && fn.Kind != "struct":
		return fmt.Sprintf("%s DoFn %s: %s", fn.Kind, shortFn(fn.Name), notCovered)
	case fn.Splittable && !sdfProcess:
		return fmt.Sprintf("splittable DoFn %s", shortFn(fn.Name))
	}
	var pd pipepb.ParDoPayload
	if err := proto.Unmarshal(t.GetSpec().GetPayload(), &pd); err != nil {
		return fmt.Sprintf("transform %s: bad ParDoPayload: %v", st.name, err)
	}
	if why := statefulWhy(fn, &pd); why != "" {
		return why
	}
	switch {
	case len(pd.GetSideInputs()) > 0 && sdfProcess:
		return fmt.Sprintf("side inputs of splittable DoFn %s: %s", shortFn(fn.Name), notCovered)
	case (len(fn.State) > 0 || len(fn.Timers) > 0) && sdfProcess:
		return fmt.Sprintf("user state or timers in splittable DoFn %s: %s", shortFn(fn.Name), notCovered)
	case pd.GetRestrictionCoderId() != "" && !sdfProcess:
		return fmt.Sprintf("splittable DoFn %s", shortFn(fn.Name))
	case pd.GetRequestsFinalization():
		return fmt.Sprintf("bundle finalization in %s", shortFn(fn.Name))
	}
	what := fn.Kind + " DoFn " + shortFn(fn.Name)
	var pe *capture.Method
	for i := range fn.Methods {
		if fn.Methods[i].Name == "ProcessElement" {
			pe = &fn.Methods[i]
		}
	}
	if pe == nil {
		return fmt.Sprintf("%s has no ProcessElement in the capture", what)
	}
	var err error
	if fn.Kind == "struct" {
		// A struct's ProcessElement is called as a method value: its declared type is
		// what the capture recorded of its parameters and results.
		if st.fnType, err = methodType(*pe); err != nil {
			return fmt.Sprintf("%s: its ProcessElement: %v", what, err)
		}
	} else if st.fnType, err = parseType(fn.Type); err != nil || st.fnType.kind != "func" {
		return fmt.Sprintf("%s: its signature %s: %v", what, fn.Type, err)
	}
	if len(pe.Params) != len(st.fnType.params) || len(pe.Returns) != len(st.fnType.results) {
		return fmt.Sprintf("%s: its ProcessElement does not match its signature", what)
	}
	out := 0
	if hasValue(pe.Returns) {
		out = 1 // the direct output is output 0
	}
	for i, p := range pe.Params {
		part := sigPart{kind: p.Kind, typ: st.fnType.params[i]}
		switch p.Kind {
		case "Context", "EventTime", "Value", "Iter", "ReIter", "MultiMap", "Window":
		case "RTracker":
			if !sdfProcess {
				return fmt.Sprintf("%s: a restriction tracker outside a splittable DoFn", what)
			}
		case "Emit":
			part.out = out
			out++
		case "StateProvider":
			if len(fn.State) == 0 {
				return fmt.Sprintf("%s: a state provider without user state", what)
			}
		case "TimerProvider":
			if len(fn.Timers) == 0 {
				return fmt.Sprintf("%s: a timer provider without timers", what)
			}
		default:
			return fmt.Sprintf("%s: a %s parameter: %s", what, p.Kind, notCovered)
		}
		st.params = append(st.params, part)
	}
	if why := env.sideInputs(st, e, t, &pd, what); why != "" {
		return why
	}
	for i, r := range pe.Returns {
		switch r.Kind {
		case "EventTime", "Value", "Error":
		default:
			return fmt.Sprintf("%s: a %s result: %s", what, r.Kind, notCovered)
		}
		st.results = append(st.results, sigPart{kind: r.Kind, typ: st.fnType.results[i]})
	}
	if fn.Kind == "struct" {
		return st.planStruct(fn, what)
	}
	return ""
}

func hasValue(ps []capture.Param) bool {
	for _, p := range ps {
		if p.Kind == "Value" {
			return true
		}
	}
	return false
}

// check verifies that the step's declared types fit the values of its input and outputs.
func (st *step) check() string {
	in := st.in.parts
	switch st.kind {
	case stepWindowInto:
		return "" // checkWindows checks it
	case stepSDFPair, stepSDFSplit:
		return st.checkSDF()
	case stepInject, stepExpand:
		return st.checkCoGBK()
	case stepSDFProcess:
		if why := st.checkSDF(); why != "" {
			return why
		}
		in = in[:st.elemParts()]
		fallthrough
	case stepParDo:
		var vals []sigPart
		for _, p := range st.params {
			switch {
			case p.side != nil:
				// chains_side.go checked it against its side input's values.
			case p.kind == "Value" || p.kind == "Iter" || p.kind == "ReIter":
				vals = append(vals, p)
			case p.kind == "Emit":
				if p.out >= len(st.outs) {
					return "an emitter without its output"
				}
				em := p.typ
				if em.kind != "func" || len(em.results) > 0 || len(em.params) == 0 {
					return fmt.Sprintf("emitter %s: %s", em.str, notCovered)
				}
				ps := em.params
				if ps[0].isEventTime() {
					ps = ps[1:]
				}
				if why := fits(ps, st.outs[p.out].parts, "emits"); why != "" {
					return why
				}
			case p.kind == "EventTime":
				if !p.typ.isEventTime() {
					return fmt.Sprintf("event time parameter of type %s", p.typ.str)
				}
			case p.kind == "Context":
				if p.typ.str != "context.Context" {
					return fmt.Sprintf("context parameter of type %s", p.typ.str)
				}
			case p.kind == "Window":
				if p.typ.str != typexWindow {
					return fmt.Sprintf("window parameter of type %s", p.typ.str)
				}
			case p.kind == "StateProvider":
				if p.typ.str != typeStateProvider {
					return fmt.Sprintf("state provider parameter of type %s", p.typ.str)
				}
			case p.kind == "TimerProvider":
				if p.typ.str != typeTimerProvider {
					return fmt.Sprintf("timer provider parameter of type %s", p.typ.str)
				}
			}
		}
		if why := fitsInput(vals, in); why != "" {
			return why
		}
		var rets []*goTyp
		for i, r := range st.results {
			switch {
			case r.kind == "Value":
				rets = append(rets, r.typ)
			case r.kind == "Error" && (r.typ.str != "error" || i != len(st.results)-1):
				return "an error result that is not last"
			case r.kind == "EventTime" && (!r.typ.isEventTime() || i != 0):
				return "an event time result that is not first"
			}
		}
		if len(rets) > 0 {
			if len(st.outs) == 0 {
				return "a direct output without its PCollection"
			}
			if why := fits(rets, st.outs[0].parts, "returns"); why != "" {
				return why
			}
		}
		emitters := 0
		for _, p := range st.params {
			if p.kind == "Emit" {
				emitters++
			}
		}
		if want := emitters + min(len(rets), 1); want != len(st.outs) {
			return fmt.Sprintf("%d outputs for %d in the signature", len(st.outs), want)
		}
	case stepPrecombine, stepMerge, stepExtract, stepCombine:
		return st.checkCombine()
	}
	return ""
}

// fitsInput says why a ParDo's element parameters cannot take its input's values ("" if
// they can): a value parameter per value, an iterator func(*V) bool per grouped values.
// The SDK refuses a re-iterable func() func(*V) bool there (exec/fn.go fails the bundle:
// "GBK/CoGBK result values must be iterable"), so a stage declaring one stays portable
// and fails as it would.
func fitsInput(ps []sigPart, parts []capture.Value) string {
	decl := make([]*goTyp, len(ps))
	vals := make([]capture.Value, len(parts))
	copy(vals, parts)
	for i, p := range ps {
		decl[i] = p.typ
		if p.kind == "Value" || i >= len(parts) {
			continue
		}
		if parts[i].Kind != capture.ValueIterable {
			return fmt.Sprintf("iterates with %s over a %s", p.typ.str, valueTypeString(parts[i]))
		}
		if p.kind == "ReIter" {
			return fmt.Sprintf("re-iterable %s over grouped values, which the SDK refuses", p.typ.str)
		}
		if decl[i] = iterElem(p); decl[i] == nil {
			return fmt.Sprintf("iterator %s: %s", p.typ.str, notCovered)
		}
		vals[i] = parts[i].Components[0]
	}
	return fits(decl, vals, "reads")
}

// iterElem is V of an iterator parameter func(*V) bool (Iter) or func() func(*V) bool
// (ReIter), or nil for other forms (several values per step, ...).
func iterElem(p sigPart) *goTyp {
	t := p.typ
	if p.kind == "ReIter" {
		if t.kind != "func" || len(t.params) != 0 || len(t.results) != 1 {
			return nil
		}
		t = t.results[0]
	}
	if t.kind != "func" || len(t.params) != 1 || len(t.results) != 1 || t.results[0].str != "bool" || t.params[0].kind != "ptr" {
		return nil
	}
	return t.params[0].elem
}

// fits says why declared types cannot carry a PCollection's values ("" if they can): one
// per part, each the part's own type or a universal one (converted with a check).
func fits(declared []*goTyp, parts []capture.Value, verb string) string {
	var ds, ps []string
	for _, d := range declared {
		ds = append(ds, d.str)
	}
	for _, p := range parts {
		ps = append(ps, valueTypeString(p))
	}
	if len(declared) != len(parts) {
		return fmt.Sprintf("%s (%s) for values (%s)", verb, strings.Join(ds, ", "), strings.Join(ps, ", "))
	}
	for i, d := range declared {
		if d.str != ps[i] && !d.universal() {
			return fmt.Sprintf("%s %s for a %s", verb, d.str, ps[i])
		}
	}
	return ""
}

// More URNs chains know.
const (
	urnParDo         = "beam:transform:pardo:v1"
	urnMerge         = "beam:transform:combine_per_key_merge_accumulators:v1"
	urnExtract       = "beam:transform:combine_per_key_extract_outputs:v1"
	urnGlobalWindows = "beam:window_fn:global_windows:v1"
)
