package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// Lifted combines: the planner splits a CombinePerKey into precombine | GroupByKey |
// merge | extract, and a chain runs each part as the Go SDK's exec nodes do
// (LiftedCombine, MergeAccumulators, ExtractOutput):
//
//   - precombine: per key, CreateAccumulator (the zero accumulator without one), then
//     AddInput; a merge-only CombineFn (no AddInput) takes a key's first value as its
//     accumulator and merges the next ones in. Keys are held in first-seen order and
//     flushed past precombineMax keys and at Finish.
//   - merge: per key, CreateAccumulator (called as the SDK calls it, though the first
//     accumulator replaces it), then MergeAccumulators over the grouped accumulators.
//   - extract: ExtractOutput, or the accumulator itself without one.
//
// Each method may take a context (the step's, naming its transform) and return an error
// (it fails the bundle). Compact is never called: the SDK's exec nodes do not call it.
// A struct CombineFn is decoded per stage instance from its transform's payload
// (rt.DecodeCombineFn: configuration restored as the SDK restores it), its Setup run in
// the factory and its Teardown in Stage.Teardown, as for struct DoFns. Its methods are
// called directly when the generated package can name its type, else through typed
// method values (rt.Method). When it cannot name the accumulator, AddInput's input or
// ExtractOutput's output (an unexported type of another package), the chain holds those
// values as any and calls the methods through the SDK's own callers of them (rt.Boxed:
// what the SDK harness calls, the register.Combiner* wrappers when the program has them);
// such values may only travel between these steps and the stage's SDK-coded ports.

// combineFn is what a chain knows of a combine step's CombineFn: its methods, each
// (context.Context?, values...) (value, error?), nil when absent.
type combineFn struct {
	kind                        string // "func" (a merge function) or "struct"
	create, add, merge, extract *sdfMethod
	accum                       *goTyp        // A, MergeAccumulators' result
	accumValue                  capture.Value // A's value, as the accumulator coder codes it
	// boxed says the generated package cannot name a type the methods take or return:
	// they are called with any values, through rt.Boxed.
	boxed bool
}

// calls are the methods the SDK calls in a step of kind k.
func (cf *combineFn) calls(k stepKind) []*sdfMethod {
	var ms []*sdfMethod
	add := func(m *sdfMethod) {
		if m != nil {
			ms = append(ms, m)
		}
	}
	switch k {
	case stepPrecombine:
		add(cf.create)
		if cf.add != nil {
			add(cf.add)
		} else {
			add(cf.merge)
		}
	case stepMerge:
		add(cf.create)
		add(cf.merge)
	case stepExtract:
		add(cf.extract)
	case stepCombine:
		add(cf.create)
		if cf.add != nil {
			add(cf.add)
		} else {
			add(cf.merge)
		}
		add(cf.extract)
	}
	return ms
}

// needsZero says whether a boxed step of kind k starts from the zero accumulator, which
// only the decoded CombineFn can make.
func (cf *combineFn) needsZero(k stepKind) bool {
	return cf.boxed && cf.create == nil && ((k == stepPrecombine && cf.add != nil) || k == stepMerge || k == stepCombine)
}

// combine fills a lifted combine's step from the capture's CombineFn, or says why it is
// not covered.
func (env *chainEnv) combine(st *step, id, urn string) string {
	st.kind = map[string]stepKind{urnPrecombine: stepPrecombine, urnMerge: stepMerge, urnExtract: stepExtract}[urn]
	e, ok := env.combines[baseID(id)]
	if !ok || e.Fn == nil {
		return fmt.Sprintf("transform %s: the capture has no CombineFn for it", st.name)
	}
	return st.planCombine(e)
}

// planCombine fills a combine step of known kind from its capture edge.
func (st *step) planCombine(e capture.Edge) string {
	fn := e.Fn
	st.fn = fn.Name
	what := fn.Kind + " CombineFn " + shortFn(fn.Name)
	if fn.Kind != "func" && fn.Kind != "struct" {
		return what + ": " + notCovered
	}
	cf := &combineFn{kind: fn.Kind}
	var lifecycle []capture.Method
	for _, m := range fn.Methods {
		var slot **sdfMethod
		switch m.Name {
		case "CreateAccumulator":
			slot = &cf.create
		case "AddInput":
			slot = &cf.add
		case "MergeAccumulators":
			slot = &cf.merge
		case "ExtractOutput":
			slot = &cf.extract
		case "Compact":
			continue // the SDK's exec nodes never call it
		case "Setup", "Teardown":
			lifecycle = append(lifecycle, m)
			continue
		default:
			return fmt.Sprintf("%s: its %s method: %s", what, m.Name, notCovered)
		}
		sm, why := planSDFMethod(m, what)
		if why != "" {
			return why
		}
		*slot = sm
	}
	if cf.merge == nil {
		return what + " has no MergeAccumulators in the capture"
	}
	a := cf.merge.out
	cf.accum = a
	bad := func(m *sdfMethod) string {
		return fmt.Sprintf("%s: its %s (%s) does not fit its accumulator %s", what, m.name, m.fnType.str, a.str)
	}
	switch {
	case len(cf.merge.in) != 2 || cf.merge.in[0].str != a.str || cf.merge.in[1].str != a.str:
		return bad(cf.merge)
	case cf.create != nil && (len(cf.create.in) != 0 || cf.create.out.str != a.str):
		return bad(cf.create)
	case cf.add != nil && (len(cf.add.in) != 2 || cf.add.in[0].str != a.str || cf.add.out.str != a.str):
		return bad(cf.add)
	case cf.extract != nil && (len(cf.extract.in) != 1 || cf.extract.in[0].str != a.str):
		return bad(cf.extract)
	}
	if e.Accum == nil || valueTypeString(*e.Accum) != a.str {
		return fmt.Sprintf("%s: its accumulator's Go type does not match its signature", what)
	}
	cf.accumValue = *e.Accum
	cf.boxed = !a.nameable() || (cf.add != nil && !cf.add.in[1].nameable()) || (cf.extract != nil && !cf.extract.out.nameable())
	st.comb = cf
	if fn.Kind == "func" {
		st.fnType = cf.merge.fnType
		return ""
	}
	return st.planCombineStruct(fn, what, lifecycle)
}

// planCombineStruct fills st.recv for a struct CombineFn: its Setup and Teardown, and
// (unless boxed) the methods the step calls, which the stage holds typed method values
// of when it cannot name the struct.
func (st *step) planCombineStruct(fn *capture.Fn, what string, lcs []capture.Method) string {
	typ, err := parseType(fn.Type)
	if err != nil {
		return fmt.Sprintf("%s: its type %s: %v", what, fn.Type, err)
	}
	named := typ
	if typ.kind == "ptr" {
		named = typ.elem
	}
	if named.kind != "named" || named.pkg == "" {
		return fmt.Sprintf("%s: its type %s is not a named struct", what, fn.Type)
	}
	sf := &structFn{typ: typ, named: named, noProcess: true}
	for _, m := range lcs {
		lc := &lifecycle{name: m.Name}
		if lc.fnType, err = methodType(m); err != nil {
			return fmt.Sprintf("%s: its %s: %v", what, m.Name, err)
		}
		for _, p := range m.Params {
			if p.Kind != "Context" || p.Type != "context.Context" {
				return fmt.Sprintf("%s: a %s parameter of %s: %s", what, p.Kind, m.Name, notCovered)
			}
			lc.params = append(lc.params, sigPart{kind: "Context"})
		}
		for _, r := range m.Returns {
			if r.Kind != "Error" || r.Type != "error" || lc.hasErr {
				return fmt.Sprintf("%s: a %s result of %s: %s", what, r.Kind, m.Name, notCovered)
			}
			lc.hasErr = true
		}
		sf.lifecycle = append(sf.lifecycle, lc)
	}
	if !st.comb.boxed {
		sf.calls = st.comb.calls(st.kind)
	}
	st.recv = sf
	return ""
}

// typedKeys are the key kinds whose Go equality is the equality of their encodings, by
// which the SDK's precombine tells keys apart (not doubles: -0 and NaN).
var typedKeys = map[string]bool{
	capture.ValueString: true, capture.ValueVarInt: true, capture.ValueVarIntZ: true,
	capture.ValueBool: true, capture.ValueBytes: true,
}

// checkCombine verifies that a combine step's CombineFn fits the values of its input and
// output: KV<key, V> to KV<key, A> (precombine), KV<key, iterable<A>> to KV<key, A>
// (merge), KV<key, A> to KV<key, O> (extract).
func (st *step) checkCombine() string {
	cf := st.comb
	a := cf.accum.str
	in := st.in.parts
	if len(in) != 2 || len(st.outs) != 1 || len(st.outs[0].parts) != 2 {
		return "its input or output is not a KV"
	}
	out := st.outs[0].parts
	if valueTypeString(out[0]) != valueTypeString(in[0]) {
		return "its output's key is not its input's"
	}
	notAccum := func(what string, v capture.Value) string {
		return fmt.Sprintf("its %s %s is not the accumulator type %s", what, valueTypeString(v), a)
	}
	switch st.kind {
	case stepPrecombine:
		if k := in[0]; !typedKeys[k.Kind] || spellable(k) != "" {
			return fmt.Sprintf("its key %s (%s): the SDK tells keys apart by their encoding, a chain by Go equality: only string, integer, bool and bytes keys are generated", valueTypeString(k), k.Kind)
		}
		if cf.add != nil {
			if why := fits(cf.add.in[1:], in[1:], "AddInput reads"); why != "" {
				return why
			}
		} else if valueTypeString(in[1]) != a {
			return notAccum("input", in[1])
		}
	case stepMerge:
		if in[1].Kind != capture.ValueIterable || valueTypeString(in[1].Components[0]) != a {
			return notAccum("input", in[1])
		}
	case stepCombine:
		if in[1].Kind != capture.ValueIterable {
			return "its input is not grouped values"
		}
		if cf.add != nil {
			if why := fits(cf.add.in[1:], in[1].Components, "AddInput reads"); why != "" {
				return why
			}
		} else if valueTypeString(in[1].Components[0]) != a {
			return notAccum("input", in[1].Components[0])
		}
		fallthrough
	case stepExtract:
		if st.kind == stepExtract && valueTypeString(in[1]) != a {
			return notAccum("input", in[1])
		}
		if cf.extract == nil {
			if valueTypeString(out[1]) != a {
				return notAccum("output", out[1])
			}
			return ""
		}
		return fits([]*goTyp{cf.extract.out}, out[1:], "ExtractOutput returns")
	}
	if valueTypeString(out[1]) != a {
		return notAccum("output", out[1])
	}
	return ""
}

// checkHeld says why the chain cannot hold a value it cannot name ("" if it can): such a
// value is held as any, so only boxed combine steps (or a combine's key, which no
// method takes) may take or make it, and a stage port carrying it must be coded with
// the SDK's coder.
func (ch *chain) checkHeld() string {
	producer := map[*pcoll]*step{}
	for _, st := range ch.steps {
		for _, pc := range st.outs {
			producer[pc] = st
		}
	}
	takes := func(st *step, part int) bool {
		return st != nil && st.comb != nil && (st.comb.boxed || part == 0)
	}
	for _, pc := range ch.pcolls {
		for i, p := range pc.parts {
			why := spellable(p)
			if why == "" {
				continue
			}
			why = fmt.Sprintf("PCollection %s: %s", pc.name, why)
			if pc == ch.input && ch.inCode != nil || pc != ch.input && !takes(producer[pc], i) {
				return why
			}
			for _, st := range pc.consumers {
				if !takes(st, i) {
					return why
				}
			}
			for _, o := range pc.outIdx {
				if ch.outs[o] != nil {
					return why
				}
			}
		}
	}
	return ""
}

// nameable says whether the generated package can spell t.
func (t *goTyp) nameable() bool {
	switch t.kind {
	case "any":
		return true
	case "slice", "ptr":
		return t.elem.nameable()
	case "map":
		return t.key.nameable() && t.elem.nameable()
	case "func":
		for _, p := range append(append([]*goTyp{}, t.params...), t.results...) {
			if !p.nameable() {
				return false
			}
		}
		return true
	}
	return t.pkg == "" || t.pkg == "main" || (exported(t.name) && importable(t.pkg))
}

// valType is the Go type a chain holds a part as: its own, or any (or []any for an
// iterable) when the generated package cannot name it.
func valType(p capture.Value) jen.Code {
	switch {
	case spellable(p) == "":
		return goType(p)
	case p.Kind == capture.ValueIterable:
		return jen.Index().Any()
	}
	return jen.Any()
}

// boxedType is the type rt.Boxed gives a method: any for each parameter and result.
func boxedType(m *sdfMethod) *jen.Statement {
	n := len(m.in)
	if m.ctx {
		n++
	}
	ps := make([]jen.Code, n)
	for i := range ps {
		ps[i] = jen.Any()
	}
	if m.hasErr {
		return jen.Func().Params(ps...).Params(jen.Any(), jen.Any())
	}
	return jen.Func().Params(ps...).Any()
}

func zeroField(st *step) string { return fmt.Sprintf("zero%d", st.idx) }

// combineFields are the stage's fields for a boxed combine step: its methods as
// rt.Boxed gives them, and the zero accumulator when it starts from one.
func (em *emitter) combineFields(st *step) []jen.Code {
	if st.comb == nil || !st.comb.boxed {
		return nil
	}
	var fields []jen.Code
	for i, m := range st.comb.calls(st.kind) {
		field := jen.Id(methodField(st, m.name)).Add(boxedType(m))
		if i == 0 {
			field.Comment(shortFn(st.fn) + "'s methods, called with any values: the generated package cannot name their types")
		}
		fields = append(fields, field)
	}
	if st.comb.needsZero(st.kind) {
		fields = append(fields, jen.Id(zeroField(st)).Any().Comment("the zero accumulator: "+shortFn(st.fn)+" has no CreateAccumulator"))
	}
	return fields
}

// emitCombineDecode writes decode<idx> for a combine step whose CombineFn the stage
// decodes: a struct's value (for its methods and lifecycle) or a boxed step's callers.
func (em *emitter) emitCombineDecode(f *jen.File, st *step) {
	wrap := func(format string, args ...jen.Code) jen.Code {
		return jen.Return(em.errorf(st.name+": "+format, args...))
	}
	decoder := "DecodeCombineFn"
	if st.kind == stepCombine {
		decoder = "DecodeCombineFnParDo" // the expansion's ParDo holds it
	}
	body := []jen.Code{
		jen.List(jen.Id("payload"), jen.Err()).Op(":=").Id("env").Dot("Payload").Call(jen.Lit(st.name)),
		jen.If(jen.Err().Op("!=").Nil()).Block(wrap("%w", jen.Err())),
		jen.List(jen.Id("cf"), jen.Err()).Op(":=").Qual(rtPath, decoder).Call(jen.Id("payload")),
		jen.If(jen.Err().Op("!=").Nil()).Block(wrap("%w", jen.Err())),
	}
	if st.recv != nil {
		recv := jen.Id("cf").Dot("Recv").Call()
		if em.directStruct(st) {
			body = append(body,
				jen.List(jen.Id("fn"), jen.Id("ok")).Op(":=").Add(recv).Assert(st.recv.typ.code()),
				jen.If(jen.Op("!").Id("ok")).Block(wrap("the payload holds a %T, want "+st.recv.typ.str, jen.Id("cf").Dot("Recv").Call())),
				jen.Id("s").Dot(recvField(st)).Op("=").Id("fn"))
		} else {
			for _, m := range st.bound() {
				body = append(body, jen.If(
					jen.List(jen.Id("s").Dot(methodField(st, m.name)), jen.Err()).Op("=").Qual(rtPath, "Method").Types(m.typ.code()).Call(jen.Id("cf").Dot("Recv").Call(), jen.Lit(m.name)),
					jen.Err().Op("!=").Nil(),
				).Block(wrap("%w", jen.Err())))
			}
		}
	}
	if st.comb.boxed {
		for _, m := range st.comb.calls(st.kind) {
			body = append(body, jen.If(
				jen.List(jen.Id("s").Dot(methodField(st, m.name)), jen.Err()).Op("=").Qual(rtPath, "Boxed").Types(boxedType(m)).Call(jen.Id("cf"), jen.Lit(m.name)),
				jen.Err().Op("!=").Nil(),
			).Block(wrap("%w", jen.Err())))
		}
		if st.comb.needsZero(st.kind) {
			body = append(body, jen.Id("s").Dot(zeroField(st)).Op("=").Id("cf").Dot("Zero").Call())
		}
	}
	body = append(body, jen.Return(jen.Nil()))
	f.Commentf("decode%d decodes step%d's CombineFn (%s) from the payload the runner sent for", st.idx, st.idx, shortFn(st.fn))
	f.Comment("its transform, as the Go SDK decodes it.")
	f.Func().Params(jen.Id("s").Op("*").Id(em.stage)).Id(fmt.Sprintf("decode%d", st.idx)).Params(jen.Id("env").Qual(rtPath, "StageEnv")).Error().Block(body...)
}

// combineCallee is how a combine step calls method m.
func (em *emitter) combineCallee(st *step, m *sdfMethod) *jen.Statement {
	switch {
	case st.comb.boxed:
		return jen.Id("b").Dot(methodField(st, m.name))
	case st.recv != nil:
		return em.structMethod("b", st, m.name)
	}
	return em.callee(st)
}

// combineCall calls method m with args and declares lhs, its result as the chain holds
// values of result's type (a checked assertion out of any or a universal type); an
// error fails the bundle. An lhs of _ drops the result.
func (em *emitter) combineCall(st *step, m *sdfMethod, lhs string, result capture.Value, args ...jen.Code) []jen.Code {
	if m.ctx {
		args = append([]jen.Code{stepCtx(st)}, args...)
	}
	call := em.combineCallee(st, m).Call(args...)
	boxed := st.comb.boxed
	convert := lhs != "_" && (boxed && spellable(result) == "" || !boxed && m.out.str != valueTypeString(result))
	raw := lhs
	if convert {
		raw = lhs + "Raw"
	}
	var stmts []jen.Code
	switch {
	case !m.hasErr && lhs == "_":
		stmts = append(stmts, jen.Id("_").Op("=").Add(call))
	case !m.hasErr:
		stmts = append(stmts, jen.Id(raw).Op(":=").Add(call))
	default:
		errVar := strings.ToLower(m.name[:1]) + m.name[1:] + "Err"
		fail := func(err jen.Code) *jen.Statement {
			return jen.Block(jen.Id("b").Dot("fail").Call(em.errorf(st.name+": "+m.name+": %w", err)), jen.Return())
		}
		stmts = append(stmts, jen.List(jen.Id(raw), jen.Id(errVar)).Op(":=").Add(call))
		if boxed {
			// rt.Boxed returns the error as any.
			stmts = append(stmts, jen.If(jen.List(jen.Err(), jen.Id("_")).Op(":=").Id(errVar).Assert(jen.Error()), jen.Err().Op("!=").Nil()).Add(fail(jen.Err())))
		} else {
			stmts = append(stmts, jen.If(jen.Id(errVar).Op("!=").Nil()).Add(fail(jen.Id(errVar))))
		}
	}
	if convert {
		stmts = append(stmts,
			jen.List(jen.Id(lhs), jen.Id("ok")).Op(":=").Id(raw).Assert(goType(result)),
			jen.If(jen.Op("!").Id("ok")).Block(
				jen.Id("b").Dot("fail").Call(em.errorf(st.name+": "+m.name+" returned a %T, want "+valueTypeString(result), jen.Id(raw))),
				jen.Return()))
	}
	return stmts
}

func (em *emitter) emitCombineStep(f *jen.File, st *step) {
	switch st.kind {
	case stepPrecombine:
		em.emitPrecombine(f, st)
	case stepMerge:
		em.emitMerge(f, st)
	case stepExtract:
		em.emitExtract(f, st)
	case stepCombine:
		em.emitCombineGrouped(f, st)
	}
}

// startAccum are the statements declaring a, the accumulator a key starts from:
// CreateAccumulator's, or the zero accumulator.
func (em *emitter) startAccum(st *step, accum capture.Value) []jen.Code {
	cf := st.comb
	switch {
	case cf.create != nil:
		return em.combineCall(st, cf.create, "a", accum)
	case cf.boxed:
		return []jen.Code{jen.Id("a").Op(":=").Id("b").Dot(zeroField(st))}
	}
	return []jen.Code{jen.Var().Id("a").Add(valType(accum))}
}

func (em *emitter) emitPrecombine(f *jen.File, st *step) {
	cf := st.comb
	acc, idx := fmt.Sprintf("acc%d", st.idx), fmt.Sprintf("idx%d", st.idx)
	key := jen.Id("v0")
	if st.in.parts[0].Kind == capture.ValueBytes {
		key = jen.String().Call(jen.Id("v0"))
	}
	accum := st.outs[0].parts[1]
	combineIn := cf.merge // merge-only: the input is an accumulator
	if cf.add != nil {
		combineIn = cf.add
	}
	seen := []jen.Code{jen.Id("e").Op(":=").Op("&").Id("b").Dot(acc).Index(jen.Id("i"))}
	seen = append(seen, em.combineCall(st, combineIn, "x", accum, jen.Id("e").Dot("a"), jen.Id("v1"))...)
	seen = append(seen,
		jen.Id("e").Dot("a").Op("=").Id("x"),
		jen.Id("e").Dot("h").Op("=").Id("b").Dot("h"),
		jen.Return())
	body := []jen.Code{jen.If(jen.List(jen.Id("i"), jen.Id("ok")).Op(":=").Id("b").Dot(idx).Index(key.Clone()), jen.Id("ok")).Block(seen...)}
	first := jen.Id("v1")
	switch {
	case cf.add != nil:
		body = append(body, em.startAccum(st, accum)...)
		body = append(body, em.combineCall(st, cf.add, "x", accum, jen.Id("a"), jen.Id("v1"))...)
		first = jen.Id("x")
	case cf.create != nil:
		// The SDK creates an accumulator, then takes the value for it.
		body = append(body, em.combineCall(st, cf.create, "_", accum)...)
	}
	body = append(body,
		jen.Id("b").Dot(idx).Index(key.Clone()).Op("=").Len(jen.Id("b").Dot(acc)),
		jen.Id("b").Dot(acc).Op("=").Append(jen.Id("b").Dot(acc), jen.Id(em.accType(st)).Values(jen.Dict{
			jen.Id("k"): jen.Id("v0"), jen.Id("a"): first, jen.Id("h"): jen.Id("b").Dot("h"),
		})),
		jen.If(jen.Len(jen.Id("b").Dot(acc)).Op(">").Lit(precombineMax)).Block(jen.Id("b").Dot(fmt.Sprintf("flush%d", st.idx)).Call()))
	f.Commentf("step%d runs %s:", st.idx, st.name)
	f.Commentf("%s's partial results per key, held until the bundle ends or more than %d", shortFn(st.fn), precombineMax)
	if cf.add != nil {
		f.Comment("keys are held. A key starts from a new accumulator and adds each value, as the")
		f.Comment("SDK's lifted combine does; each partial keeps the header of its key's last element.")
	} else {
		f.Comment("keys are held. A key's first value is its accumulator, as the SDK has it for a")
		f.Comment("merge-only CombineFn; each partial keeps the header of its key's last element.")
	}
	f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(body...))
	f.Line()
	f.Commentf("flush%d emits what step%d holds, in first-seen order (the output is the same on every", st.idx, st.idx)
	f.Comment("run), each partial under the header of its last element.")
	f.Add(em.method(fmt.Sprintf("flush%d", st.idx)).Block(
		jen.Id("h").Op(":=").Id("b").Dot("h"),
		jen.For(jen.Id("i").Op(":=").Range().Id("b").Dot(acc)).Block(
			jen.Id("e").Op(":=").Op("&").Id("b").Dot(acc).Index(jen.Id("i")),
			jen.Id("b").Dot("h").Op("=").Id("e").Dot("h"),
			jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx)).Call(jen.Id("e").Dot("k"), jen.Id("e").Dot("a")),
		),
		jen.Id("b").Dot("h").Op("=").Id("h"),
		jen.Clear(jen.Id("b").Dot(acc)),
		jen.Id("b").Dot(acc).Op("=").Id("b").Dot(acc).Index(jen.Op(":").Lit(0)),
		jen.Clear(jen.Id("b").Dot(idx)),
	))
}

func (em *emitter) emitMerge(f *jen.File, st *step) {
	accum := st.outs[0].parts[1]
	body := em.startAccum(st, accum)
	loop := []jen.Code{jen.If(jen.Id("i").Op("==").Lit(0)).Block(jen.Id("a").Op("=").Id("x"), jen.Continue())}
	loop = append(loop, em.combineCall(st, st.comb.merge, "m", accum, jen.Id("a"), jen.Id("x"))...)
	loop = append(loop, jen.Id("a").Op("=").Id("m"))
	body = append(body,
		jen.For(jen.List(jen.Id("i"), jen.Id("x")).Op(":=").Range().Id("v1")).Block(loop...),
		jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx)).Call(jen.Id("v0"), jen.Id("a")))
	f.Commentf("step%d runs %s:", st.idx, st.name)
	f.Commentf("%s merges a key's accumulators in order into the first, as the SDK does (none:", shortFn(st.fn))
	if st.comb.create != nil {
		f.Comment("the accumulator CreateAccumulator makes, which the SDK makes for every key).")
	} else {
		f.Comment("the zero value, as in the SDK).")
	}
	f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(body...))
}

func (em *emitter) emitExtract(f *jen.File, st *step) {
	out := jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx))
	f.Commentf("step%d runs %s:", st.idx, st.name)
	if st.comb.extract == nil {
		f.Comment("a CombineFn without ExtractOutput outputs its accumulator.")
		f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(
			out.Call(ids("v", len(st.in.parts))...)))
		return
	}
	body := em.combineCall(st, st.comb.extract, "o", st.outs[0].parts[1], jen.Id("v1"))
	body = append(body, out.Call(jen.Id("v0"), jen.Id("o")))
	f.Commentf("%s's ExtractOutput of the merged accumulator.", shortFn(st.fn))
	f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(body...))
}

// combineGrouped fills the step of a combine the planner did not lift (a non-default
// trigger): a ParDo of the composite's expansion, whose payload holds the CombineFn.
func (env *chainEnv) combineGrouped(st *step, e capture.Edge) string {
	st.kind = stepCombine
	if e.Fn == nil {
		return fmt.Sprintf("transform %s: the capture has no CombineFn for it", st.name)
	}
	return st.planCombine(e)
}

// emitCombineGrouped writes a combine the planner did not lift, as exec.Combine runs
// it: a key's values added to a new accumulator (merged into the first, for a merge-only
// CombineFn), then extracted.
func (em *emitter) emitCombineGrouped(f *jen.File, st *step) {
	cf := st.comb
	out := st.outs[0].parts
	accum := cf.accumValue
	body := em.startAccum(st, accum)
	var loop []jen.Code
	if cf.add != nil {
		loop = em.combineCall(st, cf.add, "x", accum, jen.Id("a"), jen.Id("v"))
		loop = append(loop, jen.Id("a").Op("=").Id("x"))
		body = append(body, jen.For(jen.List(jen.Id("_"), jen.Id("v")).Op(":=").Range().Id("v1")).Block(loop...))
	} else {
		loop = []jen.Code{jen.If(jen.Id("i").Op("==").Lit(0)).Block(jen.Id("a").Op("=").Id("v"), jen.Continue())}
		loop = append(loop, em.combineCall(st, cf.merge, "m", accum, jen.Id("a"), jen.Id("v"))...)
		loop = append(loop, jen.Id("a").Op("=").Id("m"))
		body = append(body, jen.For(jen.List(jen.Id("i"), jen.Id("v")).Op(":=").Range().Id("v1")).Block(loop...))
	}
	o := jen.Id("a")
	if cf.extract != nil {
		body = append(body, em.combineCall(st, cf.extract, "o", out[1], jen.Id("a"))...)
		o = jen.Id("o")
	}
	body = append(body, jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx)).Call(jen.Id("v0"), o))
	f.Commentf("step%d runs %s, a combine not lifted:", st.idx, st.name)
	f.Commentf("%s combines a key's values into one accumulator and extracts it, as the SDK does.", shortFn(st.fn))
	f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(body...))
}
