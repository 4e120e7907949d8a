package gen

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// Side inputs of a ParDo, as the Go SDK's exec.ParDo reads them (exec/fn.go
// makeSideInputs, exec/input.go): the side inputs are the last of the ProcessElement's
// value parameters (Value, Iter, ReIter, MultiMap), the i-th of them reading the edge's
// input i+1, which the pipeline proto names "i<i+1>" in the ParDoPayload. A singleton is
// the one value there is (else the SDK's error), an Iter a pass over the values, a ReIter
// a new pass per call, a multimap a pass over one key's values. The SDK reads a side input
// again for each element (it has no cache without the runner's cache tokens); the values
// cannot change while the stage runs (the runner materializes them before its first
// bundle), so a chain reads each once per bundle, at its first use, and a multimap's once
// per key and bundle. A side input in fixed or sliding windows is read in the window the
// element's window maps to (exec's windowMapper: the side window fn assigns the main
// window's last timestamp, the earliest window wins; rt.SideWindowFn), the DoFn called
// once per window (exec's mustExplodeWindows), and read again when the main window
// changes. Only typed coders are generated.

// sideIn is one side input of a ParDo step.
type sideIn struct {
	local string // its local name in the ParDoPayload: i1, i2, ...
	kind  string // the input kind: Singleton, Iter, ReIter, MultiMap
	param int    // the ProcessElement parameter reading it
	// parts are its element's values: the value, or a multimap's key and value.
	parts []capture.Value
	// key is the declared type of a multimap's key, elem the declared type an iterator
	// or a multimap's iterator yields.
	key, elem *goTyp
	// wfn is the side input's fixed or sliding windows; nil in the global window.
	wfn *windowAssign
}

// Window mapping fn URNs of the Go SDK's side inputs (graphx.URNWindowMapping*), by the
// side input's window fn.
var sideWindowMappings = map[string]string{
	urnGlobalWindows:  "beam:go:windowmapping:global:v1",
	urnFixedWindows:   "beam:go:windowmapping:fixed:v1",
	urnSlidingWindows: "beam:go:windowmapping:sliding:v1",
}

// sideWindowFn is the window fn of side input PCollection id (nil for the global
// window), or why its windows are not covered.
func sideWindowFn(comps *pipepb.Components, id string, spec *pipepb.SideInput) (*windowAssign, string) {
	if _, why := windowing(comps, id); why != "" {
		return nil, why
	}
	fn := comps.GetWindowingStrategies()[comps.GetPcollections()[id].GetWindowingStrategyId()].GetWindowFn()
	mapping, ok := sideWindowMappings[fn.GetUrn()]
	if !ok {
		return nil, fmt.Sprintf("windowing %s: %s (global, fixed and sliding windows are)", fn.GetUrn(), notCovered)
	}
	if got := spec.GetWindowMappingFn().GetUrn(); got != mapping {
		return nil, fmt.Sprintf("window mapping %s for windowing %s: %s (the Go SDK's %s is)", got, fn.GetUrn(), notCovered, mapping)
	}
	w, why := parseWindowFn(fn)
	if why != "" || w.urn == urnGlobalWindows {
		return nil, why
	}
	return w, ""
}

// window returns the statements computing w, the side input window to read for the
// element's window (returning ret on failure), and w: nil in the global window.
func (s *sideIn) window(em *emitter, st *step, ret ...jen.Code) ([]jen.Code, jen.Code) {
	if s.wfn == nil {
		return nil, jen.Nil()
	}
	d := jen.Dict{jen.Id("Size"): jen.Lit(s.wfn.size)}
	if s.wfn.period > 0 {
		d[jen.Id("Period")] = jen.Lit(s.wfn.period)
	}
	return []jen.Code{
		jen.List(jen.Id("w"), jen.Err()).Op(":=").Parens(jen.Qual(rtPath, "SideWindowFn").Values(d)).Dot("Map").Call(jen.Id("b").Dot("h").Dot("Windows")),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Id("b").Dot("fail").Call(em.errorf(st.name+": %w", jen.Err())),
			jen.Return(ret...)),
	}, jen.Id("w")
}

// Side input access patterns (ParDoPayload side input URNs).
const (
	urnIterableSide = "beam:side_input:iterable:v1"
	urnMultimapSide = "beam:side_input:multimap:v1"
)

// sideInputs matches a ParDo's side inputs with its parameters and fills st.sides, or
// says why they are not covered.
func (env *chainEnv) sideInputs(st *step, e capture.Edge, t *pipepb.PTransform, pd *pipepb.ParDoPayload, what string) string {
	if len(pd.GetSideInputs()) == 0 {
		return ""
	}
	if len(e.Inputs) != len(pd.GetSideInputs())+1 {
		return fmt.Sprintf("%s: %d inputs in the capture for %d side inputs", what, len(e.Inputs), len(pd.GetSideInputs()))
	}
	var data []int // the value parameters, by index in st.params
	for i, p := range st.params {
		switch p.kind {
		case "Value", "Iter", "ReIter", "MultiMap":
			data = append(data, i)
		}
	}
	if len(data) <= len(pd.GetSideInputs()) {
		return fmt.Sprintf("%s: %d value parameters for %d side inputs and the main input", what, len(data), len(pd.GetSideInputs()))
	}
	offset := len(data) - len(pd.GetSideInputs())
	for i, in := range e.Inputs[1:] {
		local := fmt.Sprintf("i%d", i+1)
		spec := pd.GetSideInputs()[local]
		pcID := t.GetInputs()[local]
		if spec == nil || pcID == "" {
			return fmt.Sprintf("%s: side input %s is not in its payload", what, local)
		}
		name := env.comps.GetPcollections()[pcID].GetUniqueName()
		wfn, why := sideWindowFn(env.comps, pcID, spec)
		if why != "" {
			return fmt.Sprintf("side input %s (%s) of %s: %s", local, name, st.name, why)
		}
		s := &sideIn{local: local, kind: in.Kind, param: data[offset+i], wfn: wfn}
		p := st.params[s.param]
		access := urnIterableSide
		switch {
		case in.Kind == "MultiMap" && p.kind == "MultiMap":
			access = urnMultimapSide
		case (in.Kind == "Singleton" && p.kind == "Value") || (in.Kind == "Iter" || in.Kind == "ReIter") && p.kind == in.Kind:
		default:
			return fmt.Sprintf("side input %s of %s: a %s input read as a %s parameter: %s", local, st.name, in.Kind, p.kind, notCovered)
		}
		if urn := spec.GetAccessPattern().GetUrn(); urn != access {
			return fmt.Sprintf("side input %s of %s: access pattern %s, want %s", local, st.name, urn, access)
		}
		ec := env.coders[pcID]
		if ec == nil {
			return fmt.Sprintf("side input %s of %s has no typed coder: %s", local, st.name, env.untyped[pcID])
		}
		s.parts = ec.Parts
		if why := s.fit(p); why != "" {
			return fmt.Sprintf("side input %s of %s: %s", local, st.name, why)
		}
		st.params[s.param].side = s
		st.sides = append(st.sides, s)
	}
	return ""
}

// fit checks the parameter's declared type against the side input's values.
func (s *sideIn) fit(p sigPart) string {
	for _, part := range s.parts {
		if part.Kind == capture.ValueIterable {
			return "values that are iterables: " + notCovered
		}
	}
	want := 1
	if s.kind == "MultiMap" {
		want = 2
	}
	if len(s.parts) != want {
		var ts []string
		for _, part := range s.parts {
			ts = append(ts, valueTypeString(part))
		}
		return fmt.Sprintf("a %s of (%s): %s", s.kind, strings.Join(ts, ", "), notCovered)
	}
	switch s.kind {
	case "Singleton":
		return fits([]*goTyp{p.typ}, s.parts, "reads")
	case "Iter", "ReIter":
		if s.elem = iterElem(p); s.elem == nil {
			return fmt.Sprintf("iterator %s: %s", p.typ.str, notCovered)
		}
		return fits([]*goTyp{s.elem}, s.parts, "iterates with")
	}
	t := p.typ // func(K) func(*V) bool
	if t.kind != "func" || len(t.params) != 1 || len(t.results) != 1 {
		return fmt.Sprintf("multimap %s: %s", t.str, notCovered)
	}
	s.key = t.params[0]
	if s.elem = iterElem(sigPart{kind: "Iter", typ: t.results[0]}); s.elem == nil {
		return fmt.Sprintf("multimap %s: %s", t.str, notCovered)
	}
	return fits([]*goTyp{s.key, s.elem}, s.parts, "reads a multimap with")
}

// sideName names the bundle's field holding a side input's values: side<step>x<n> for
// input i<n>.
func sideName(st *step, s *sideIn) string {
	return fmt.Sprintf("side%dx%s", st.idx, strings.TrimPrefix(s.local, "i"))
}

// sideSteps are the steps reading side inputs.
func (ch *chain) sideSteps() []*step {
	var out []*step
	for _, st := range ch.steps {
		if len(st.sides) > 0 {
			out = append(out, st)
		}
	}
	return out
}

// tidSteps are the steps whose runner transform id the stage needs: for their context
// (metrics) or to name them in side input or user state keys.
func (ch *chain) tidSteps() []*step {
	var out []*step
	for _, st := range ch.steps {
		if st.usesContext() || len(st.sides) > 0 || st.stateful() || st.timerful() {
			out = append(out, st)
		}
	}
	return out
}

// mapKey is a multimap key as the bundle's cache holds it: []byte keys as strings.
func mapKey(v capture.Value, k jen.Code) (jen.Code, jen.Code) {
	if v.Kind == capture.ValueBytes {
		return jen.String(), jen.String().Call(k)
	}
	return goType(v), k
}

// sideBundleFields are the bundle's fields for side inputs: the bundle's context (side
// input reads go under it), each side input's values once read, each multimap's function.
func (em *emitter) sideBundleFields() []jen.Code {
	steps := em.ch.sideSteps()
	if len(steps) == 0 {
		return nil
	}
	fields := []jen.Code{jen.Comment("sctx is the bundle's context: side inputs are read under it (rt.SideInputReader)."),
		jen.Id("sctx").Qual("context", "Context")}
	for _, st := range steps {
		for _, s := range st.sides {
			f := sideName(st, s)
			if s.wfn != nil {
				fields = append(fields, jen.Id("mw"+f[len("side"):]).Qual(rtPath, "Windows").Comment("the main window "+f+" was read for"))
			}
			switch s.kind {
			case "Singleton":
				fields = append(fields, jen.Id(f).Add(goType(s.parts[0])).Comment(st.name+"'s side input "+s.local+", once read"),
					jen.Id(f+"ok").Bool())
			case "Iter", "ReIter":
				fields = append(fields, jen.Id(f).Index().Add(goType(s.parts[0])).Comment(st.name+"'s side input "+s.local+", once read"),
					jen.Id(f+"ok").Bool())
			case "MultiMap":
				kt, _ := mapKey(s.parts[0], nil)
				fields = append(fields,
					jen.Id(f).Map(kt).Index().Add(goType(s.parts[1])).Comment(st.name+"'s side input "+s.local+": the keys read so far"),
					jen.Id("mm"+f[len("side"):]).Add(st.params[s.param].typ.code()))
			}
		}
	}
	return fields
}

// sideStartBundle keeps the bundle's context and makes each multimap's function, once.
func (em *emitter) sideStartBundle() []jen.Code {
	steps := em.ch.sideSteps()
	if len(steps) == 0 {
		return nil
	}
	body := []jen.Code{jen.Id("b").Dot("sctx").Op("=").Id("ctx")}
	for _, st := range steps {
		for _, s := range st.sides {
			if s.kind != "MultiMap" {
				continue
			}
			f := sideName(st, s)
			body = append(body, jen.Id("b").Dot("mm"+f[len("side"):]).Op("=").Func().Params(jen.Id("k").Add(s.key.code())).Add(st.params[s.param].typ.results[0].code()).Block(
				jen.Id("vs").Op(":=").Id("b").Dot("read"+f[len("side"):]).Call(jen.Id("k")),
				jen.Id("i").Op(":=").Lit(0),
				jen.Return(jen.Func().Params(jen.Id("p").Op("*").Add(s.elem.code())).Bool().Block(
					jen.If(jen.Id("i").Op(">=").Len(jen.Id("vs"))).Block(jen.Return(jen.False())),
					jen.Op("*").Id("p").Op("=").Id("vs").Index(jen.Id("i")),
					jen.Id("i").Op("++"),
					jen.Return(jen.True()),
				)),
			))
		}
	}
	return body
}

// sideArg is the argument a side input parameter gets.
func sideArg(st *step, p sigPart) jen.Code {
	f := sideName(st, p.side)
	switch p.side.kind {
	case "Singleton":
		return jen.Id("b").Dot(f)
	case "MultiMap":
		return jen.Id("b").Dot("mm" + f[len("side"):])
	}
	return iterator(p, "b."+f)
}

// sideReads are the statements a step starts with: each iterable side input read at its
// first use in the bundle, and again in a new main window for a windowed one (whose
// multimap keys are forgotten then); a failed read fails the bundle, as in the SDK harness.
func (em *emitter) sideReads(st *step) []jen.Code {
	var body []jen.Code
	for _, s := range st.sides {
		f := sideName(st, s)
		if s.wfn != nil {
			mw := jen.Id("b").Dot("mw" + f[len("side"):])
			forget := jen.Id("b").Dot(f + "ok").Op("=").False()
			if s.kind == "MultiMap" {
				forget = jen.Id("b").Dot(f).Op("=").Nil()
			}
			body = append(body, jen.If(jen.Id("b").Dot("h").Dot("Windows").Op("!=").Add(mw.Clone())).Block(
				mw.Clone().Op("=").Id("b").Dot("h").Dot("Windows"), forget))
		}
		if s.kind == "MultiMap" {
			continue
		}
		read, w := s.window(em, st)
		read = append(read,
			jen.List(jen.Id("vs"), jen.Err()).Op(":=").Qual(rtPath, "IterableSideInput").Call(
				jen.Id("b").Dot("sctx"), jen.Id("b").Dot(fmt.Sprintf("tid%d", st.idx)), jen.Lit(s.local), w, rtFunc("Decode", s.parts[0])),
			jen.If(jen.Err().Op("!=").Nil()).Block(
				jen.Id("b").Dot("fail").Call(em.errorf(st.name+": %w", jen.Err())),
				jen.Return()))
		if s.kind == "Singleton" {
			read = append(read,
				jen.List(jen.Id("v"), jen.Err()).Op(":=").Qual(rtPath, "SingletonSideInput").Call(jen.Id("vs"), jen.Lit(shortFn(st.params[s.param].typ.str))),
				jen.If(jen.Err().Op("!=").Nil()).Block(
					jen.Id("b").Dot("fail").Call(em.errorf(st.name+": making side input "+strconv.Quote(s.local)+": %w", jen.Err())),
					jen.Return()),
				jen.Id("b").Dot(f).Op("=").Id("v"))
		} else {
			read = append(read, jen.Id("b").Dot(f).Op("=").Id("vs"))
		}
		read = append(read, jen.Id("b").Dot(f+"ok").Op("=").True())
		body = append(body, jen.If(jen.Op("!").Id("b").Dot(f+"ok")).Block(read...))
	}
	return body
}

// emitMultimapReads writes read<step>x<n> for each multimap side input: a key's values,
// read at the key's first use in the bundle.
func (em *emitter) emitMultimapReads(f *jen.File) {
	for _, st := range em.ch.sideSteps() {
		sides := append([]*sideIn(nil), st.sides...)
		sort.SliceStable(sides, func(i, j int) bool { return sides[i].local < sides[j].local })
		for _, s := range sides {
			if s.kind != "MultiMap" {
				continue
			}
			field := sideName(st, s)
			kv, vv := s.parts[0], s.parts[1]
			var body []jen.Code
			k := jen.Id("k")
			if s.key.str != valueTypeString(kv) {
				body = append(body,
					jen.List(jen.Id("kk"), jen.Id("ok")).Op(":=").Id("k").Assert(goType(kv)),
					jen.If(jen.Op("!").Id("ok")).Block(
						jen.Id("b").Dot("fail").Call(em.errorf(st.name+": side input "+s.local+" read at a %T key, want "+valueTypeString(kv), jen.Id("k"))),
						jen.Return(jen.Nil())))
				k = jen.Id("kk")
			}
			_, mk := mapKey(kv, k.Clone())
			kt, _ := mapKey(kv, nil)
			m := jen.Id("b").Dot(field)
			body = append(body,
				jen.If(jen.List(jen.Id("vs"), jen.Id("ok")).Op(":=").Add(m.Clone()).Index(mk), jen.Id("ok")).Block(jen.Return(jen.Id("vs"))))
			mapWindow, w := s.window(em, st, jen.Nil())
			body = append(body, mapWindow...)
			body = append(body,
				jen.List(jen.Id("vs"), jen.Err()).Op(":=").Qual(rtPath, "MultimapSideInput").Call(
					jen.Id("b").Dot("sctx"), jen.Id("b").Dot(fmt.Sprintf("tid%d", st.idx)), jen.Lit(s.local), k.Clone(), w, rtFunc("Append", kv), rtFunc("Decode", vv)),
				jen.If(jen.Err().Op("!=").Nil()).Block(
					jen.Id("b").Dot("fail").Call(em.errorf(st.name+": %w", jen.Err())),
					jen.Return(jen.Nil())),
				jen.If(m.Clone().Op("==").Nil()).Block(m.Clone().Op("=").Map(kt).Index().Add(goType(vv)).Values()),
				m.Clone().Index(mk).Op("=").Id("vs"),
				jen.Return(jen.Id("vs")),
			)
			f.Line()
			f.Commentf("read%s is the values of %s's multimap side input %s at key k, read", field[len("side"):], st.name, s.local)
			f.Comment("at the key's first use in the bundle; a failed read fails the bundle (and yields none).")
			f.Add(em.method("read"+field[len("side"):], jen.Id("k").Add(s.key.code())).Index().Add(goType(vv)).Block(body...))
		}
	}
}
