package gen

import (
	"fmt"
	"strings"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/dave/jennifer/jen"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// Bounded splittable DoFns, as the Go SDK runs them (exec/sdf.go). The planner expands a
// splittable ParDo into pair-with-restriction and split-and-size at the tail of one stage
// and process-sized-elements at the head of the next (runner/plan). A chain emulates the
// SDK's nodes step by step:
//
//   - pair calls CreateInitialRestriction with the element and pairs it with the result
//     and the default watermark estimator state (false);
//   - split calls SplitRestriction, then RestrictionSize on each part, refusing a
//     negative size, and hands on each part with its size;
//   - process calls CreateTracker on the restriction, then ProcessElement with the
//     tracker, and fails the bundle when the tracker is not done afterwards (its error,
//     or the SDK's own message), before any direct output is handed on.
//
// Each step decodes its own DoFn from its transform's payload, as the SDK does; only the
// process step runs the DoFn's lifecycle (Setup, StartBundle, FinishBundle, Teardown):
// the SDK's pair and split nodes call none. Like the SDK's nodes, pair, split and process
// hand on elements without a pane (the zero PaneInfo), in the element's window and at its
// time. Not covered: ProcessContinuation results (self-checkpointing), watermark
// estimators, truncation (the runner never drains a native stage) and splitting a
// restriction while it is processed (the native harness answers splits empty).

// The expanded splittable DoFn's URNs.
const (
	urnSDFPair    = "beam:transform:sdf_pair_with_restriction:v1"
	urnSDFSplit   = "beam:transform:sdf_split_and_size_restrictions:v1"
	urnSDFProcess = "beam:transform:sdf_process_sized_element_and_restrictions:v1"
	sdfPath       = "github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
)

// Step kinds of a splittable DoFn's expansion.
const (
	stepSDFPair stepKind = iota + 100
	stepSDFSplit
	stepSDFProcess
)

// sdfMethod is one splittable DoFn method a step calls: (context.Context?, ins...)
// (out, error?).
type sdfMethod struct {
	name   string
	fnType *goTyp
	ctx    bool
	in     []*goTyp
	out    *goTyp
	hasErr bool
}

// sdfValues adds the values of the PCollections the planner made for each splittable
// DoFn: pair's output KV<element, KV<restriction, false>> and split's KV<that, size>.
func sdfValues(c *capture.Capture, comps *pipepb.Components, m map[string]*capture.Value) {
	fns := map[string]*capture.Fn{}
	for _, e := range c.Edges {
		if e.Fn != nil && e.Fn.Splittable {
			fns[e.ID] = e.Fn
		}
	}
	ts := comps.GetTransforms()
	for _, urn := range []string{urnSDFPair, urnSDFSplit} {
		for id, t := range ts {
			fn := fns[baseID(id)]
			in, err := mainInput(t)
			if fn == nil || t.GetSpec().GetUrn() != urn || err != nil || m[in] == nil || len(t.GetOutputs()) != 1 {
				continue
			}
			var v *capture.Value
			if urn == urnSDFPair {
				rest := restrictionValue(fn)
				if rest == nil {
					continue
				}
				v = &capture.Value{Kind: valuePaired, Components: []capture.Value{*m[in], *rest, {Kind: capture.ValueBool, Type: "bool"}}}
			} else {
				v = &capture.Value{Kind: valueSized, Components: []capture.Value{*m[in], {Kind: capture.ValueDouble, Type: "float64"}}}
			}
			for _, out := range t.GetOutputs() {
				m[out] = v
			}
		}
	}
}

// restrictionValue is the value of fn's restriction: what CreateInitialRestriction
// returns, a named or predeclared type (nil for others).
func restrictionValue(fn *capture.Fn) *capture.Value {
	for _, m := range fn.Methods {
		if m.Name != "CreateInitialRestriction" || len(m.Returns) == 0 {
			continue
		}
		t, err := parseType(m.Returns[0].Type)
		if err != nil || t.kind != "named" {
			return nil
		}
		return &capture.Value{Kind: capture.ValueOpaque, Pkg: t.pkg, Type: t.name}
	}
	return nil
}

// sdf plans a step of a splittable DoFn's expansion, or says why it is not covered.
func (env *chainEnv) sdf(st *step, id string, t *pipepb.PTransform, urn string) string {
	e, ok := env.pardos[baseID(id)]
	if !ok || e.Fn == nil {
		return fmt.Sprintf("transform %s has no Go function in the capture", st.name)
	}
	fn := e.Fn
	st.fn = fn.Name
	what := "splittable DoFn " + shortFn(fn.Name)
	var pd pipepb.ParDoPayload
	if err := proto.Unmarshal(t.GetSpec().GetPayload(), &pd); err != nil {
		return fmt.Sprintf("transform %s: bad ParDoPayload: %v", st.name, err)
	}
	switch {
	case fn.Kind != "struct" || !fn.Splittable:
		return fmt.Sprintf("%s DoFn %s in a splittable expansion", fn.Kind, shortFn(fn.Name))
	case len(pd.GetSideInputs()) > 0:
		return fmt.Sprintf("side inputs of %s: %s", what, notCovered)
	case len(pd.GetStateSpecs()) > 0 || len(pd.GetTimerFamilySpecs()) > 0:
		return fmt.Sprintf("state or timers in %s", what)
	case pd.GetRequestsFinalization():
		return fmt.Sprintf("bundle finalization in %s", what)
	}
	for _, m := range fn.Methods {
		if strings.Contains(m.Name, "WatermarkEstimator") {
			return fmt.Sprintf("%s: a watermark estimator (%s): %s", what, m.Name, notCovered)
		}
	}
	method := func(name string) (*sdfMethod, string) {
		for _, m := range fn.Methods {
			if m.Name == name {
				return planSDFMethod(m, what)
			}
		}
		return nil, fmt.Sprintf("%s has no %s in the capture", what, name)
	}
	if urn == urnSDFProcess {
		st.kind = stepSDFProcess
		if why := env.parDo(st, id, t); why != "" {
			return why
		}
		ct, why := method("CreateTracker")
		if why != "" {
			return why
		}
		st.recv.calls = append(st.recv.calls, ct)
		// RestrictionSize sizes the residuals of dynamic splits (chains_split.go); a
		// chain without it runs its bundles whole.
		if rs, why := method("RestrictionSize"); why == "" {
			st.recv.calls = append(st.recv.calls, rs)
		}
		return ""
	}
	typ, err := parseType(fn.Type)
	if err != nil || (typ.kind == "ptr" && typ.elem.kind != "named") || (typ.kind != "ptr" && typ.kind != "named") {
		return fmt.Sprintf("%s: its type %s is not a named struct", what, fn.Type)
	}
	sf := &structFn{typ: typ, named: typ, noProcess: true}
	if typ.kind == "ptr" {
		sf.named = typ.elem
	}
	names := []string{"CreateInitialRestriction"}
	st.kind = stepSDFPair
	if urn == urnSDFSplit {
		names = []string{"SplitRestriction", "RestrictionSize"}
		st.kind = stepSDFSplit
	}
	for _, name := range names {
		m, why := method(name)
		if why != "" {
			return why
		}
		sf.calls = append(sf.calls, m)
	}
	st.recv = sf
	return ""
}

// planSDFMethod reads a splittable DoFn method's signature from the capture.
func planSDFMethod(m capture.Method, what string) (*sdfMethod, string) {
	t, err := methodType(m)
	if err != nil {
		return nil, fmt.Sprintf("%s: its %s: %v", what, m.Name, err)
	}
	sm := &sdfMethod{name: m.Name, fnType: t}
	for i, p := range m.Params {
		switch {
		case i == 0 && p.Kind == "Context" && p.Type == "context.Context":
			sm.ctx = true
		case p.Kind == "Value":
			sm.in = append(sm.in, t.params[i])
		default:
			return nil, fmt.Sprintf("%s: a %s parameter of %s: %s", what, p.Kind, m.Name, notCovered)
		}
	}
	for i, r := range m.Returns {
		switch {
		case i == 0 && (r.Kind == "Value" || r.Kind == "RTracker"):
			sm.out = t.results[0]
		case i == 1 && r.Kind == "Error" && r.Type == "error":
			sm.hasErr = true
		default:
			return nil, fmt.Sprintf("%s: a %s result of %s: %s", what, r.Kind, m.Name, notCovered)
		}
	}
	if sm.out == nil {
		return nil, fmt.Sprintf("%s: its %s returns nothing", what, m.Name)
	}
	return sm, ""
}

func (sf *structFn) call(name string) *sdfMethod {
	for _, c := range sf.calls {
		if c.name == name {
			return c
		}
	}
	return nil
}

// elemParts is how many of the step's input parts are the splittable DoFn's element.
func (st *step) elemParts() int {
	n := len(st.in.parts)
	switch st.kind {
	case stepSDFSplit:
		n -= 2 // restriction, watermark estimator state
	case stepSDFProcess:
		n -= 3 // restriction, watermark estimator state, size
	}
	return max(n, 0)
}

// checkSDF checks a pair or split step's methods against its input and output values.
func (st *step) checkSDF() string {
	in := st.in.parts
	n := st.elemParts()
	elem := in[:n]
	if len(st.outs) != 1 {
		return fmt.Sprintf("%d outputs, want 1", len(st.outs))
	}
	out := st.outs[0].parts
	check := func(m *sdfMethod, ins []capture.Value, result string) string {
		if why := fits(m.in, ins, m.name+" reads"); why != "" {
			return why
		}
		if m.out.str != result {
			return fmt.Sprintf("%s returns %s, want %s", m.name, m.out.str, result)
		}
		return ""
	}
	switch st.kind {
	case stepSDFPair:
		if len(out) != n+2 {
			return "its output is not the element with its restriction"
		}
		return check(st.recv.call("CreateInitialRestriction"), elem, valueTypeString(out[n]))
	case stepSDFSplit:
		if len(out) != n+3 || valueTypeString(out[n]) != valueTypeString(in[n]) {
			return "its output is not the element with its restriction and size"
		}
		rest := valueTypeString(in[n])
		if why := check(st.recv.call("SplitRestriction"), in[:n+1], "[]"+rest); why != "" {
			return why
		}
		return check(st.recv.call("RestrictionSize"), in[:n+1], "float64")
	}
	// process: its tracker's type must be what ProcessElement takes.
	ct := st.recv.call("CreateTracker")
	if n < 1 {
		return "its input is not a sized element and restriction"
	}
	if why := check(ct, in[n:n+1], ct.out.str); why != "" {
		return why
	}
	for _, p := range st.params {
		if p.kind == "RTracker" && p.typ.str != ct.out.str && p.typ.str != sdfPath+".RTracker" {
			return fmt.Sprintf("ProcessElement takes a %s, CreateTracker returns a %s", p.typ.str, ct.out.str)
		}
	}
	return ""
}

// sdfCall calls a splittable DoFn method with args; with an error result, the statements
// fail the bundle on an error.
func (em *emitter) sdfCall(st *step, m *sdfMethod, lhs string, args ...jen.Code) []jen.Code {
	if m.ctx {
		args = append([]jen.Code{stepCtx(st)}, args...)
	}
	call := em.structMethod("b", st, m.name).Call(args...)
	if !m.hasErr {
		return []jen.Code{jen.Id(lhs).Op(":=").Add(call)}
	}
	errVar := lhs + "Err"
	return []jen.Code{
		jen.List(jen.Id(lhs), jen.Id(errVar)).Op(":=").Add(call),
		jen.If(jen.Id(errVar).Op("!=").Nil()).Block(
			jen.Id("b").Dot("fail").Call(em.errorf(st.name+": "+m.name+": %w", jen.Id(errVar))),
			jen.Return()),
	}
}

// noPane hands on the step's elements without a pane, as the SDK's splittable DoFn nodes
// do, and restores the header after.
func noPane() []jen.Code {
	return []jen.Code{
		jen.Defer().Func().Params(jen.Id("h").Qual(rtPath, "Header")).Block(jen.Id("b").Dot("h").Op("=").Id("h")).Call(jen.Id("b").Dot("h")),
		jen.Id("b").Dot("h").Dot("Pane").Op("=").Qual(wirePath, "PaneInfo").Values(),
	}
}

// emitSDF writes a pair or split step.
func (em *emitter) emitSDF(f *jen.File, st *step) {
	n := st.elemParts()
	elem := ids("v", n)
	out := jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx))
	body := noPane()
	switch st.kind {
	case stepSDFPair:
		body = append(body, em.sdfCall(st, st.recv.call("CreateInitialRestriction"), "r", elem...)...)
		body = append(body, out.Call(append(elem, jen.Id("r"), jen.False())...))
		f.Commentf("step%d runs %s: the element with its initial", st.idx, st.name)
		f.Comment("restriction and the default watermark estimator state, as exec.PairWithRestriction.")
	case stepSDFSplit:
		rest := jen.Id(fmt.Sprintf("v%d", n))
		wes := jen.Id(fmt.Sprintf("v%d", n+1))
		loop := em.sdfCall(st, st.recv.call("RestrictionSize"), "size", append(elem, jen.Id("r"))...)
		loop = append(loop,
			jen.If(jen.Id("size").Op("<").Lit(0)).Block(
				jen.Id("b").Dot("fail").Call(em.errorf(st.name+": size returned expected to be non-negative but received %v.", jen.Id("size"))),
				jen.Return()),
			out.Clone().Call(append(elem, jen.Id("r"), wes, jen.Id("size"))...),
			jen.If(jen.Id("b").Dot("err").Op("!=").Nil()).Block(jen.Return()))
		body = append(body, em.sdfCall(st, st.recv.call("SplitRestriction"), "rs", append(elem, rest)...)...)
		body = append(body, jen.For(jen.List(jen.Id("_"), jen.Id("r")).Op(":=").Range().Id("rs")).Block(loop...))
		f.Commentf("step%d runs %s: each part of the restriction,", st.idx, st.name)
		f.Comment("with its size, as exec.SplitAndSizeRestrictions.")
	}
	f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(body...))
}

// trackerStmts are what a process step does around ProcessElement: before, its tracker
// from CreateTracker (and no pane); after, the SDK's check that the restriction is done.
func (em *emitter) trackerStmts(st *step) (pre, post []jen.Code) {
	n := st.elemParts()
	pre = noPane()
	pre = append(pre, em.sdfCall(st, st.recv.call("CreateTracker"), "tr", jen.Id(fmt.Sprintf("v%d", n)))...)
	pre = append(pre, em.splitTrack(st)...)
	post = append(em.splitUntrack(st),
		jen.If(jen.Id("tracker").Op(":=").Qual(sdfPath, "RTracker").Call(jen.Id("tr")), jen.Op("!").Id("tracker").Dot("IsDone").Call()).Block(
			jen.Err().Op(":=").Id("tracker").Dot("GetError").Call(),
			jen.If(jen.Err().Op("==").Nil()).Block(
				jen.Err().Op("=").Qual("errors", "New").Call(jen.Lit("DoFn terminated without fully processing restriction"))),
			jen.Id("b").Dot("fail").Call(em.errorf(st.name+": %w", jen.Err())),
			jen.Return()),
	)
	return pre, post
}

// sdfUsesContext says whether a splittable DoFn method of the chain takes a context.
