package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// The code of combine steps (planned in chains_combine.go): each method call fails the
// bundle on an error result, and converts what it returns to the type the chain holds.

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
			body = append(body, em.boundMethods(st, recv, wrap)...)
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
	body, key := em.cacheKey(st)
	per, held := "key", "keys"
	if st.in.windowed {
		per, held = "key and window", "keys and windows"
	}
	accum := st.outs[0].parts[1]
	combineIn := cf.merge // merge-only: the input is an accumulator
	if cf.add != nil {
		combineIn = cf.add
	}
	seen := []jen.Code{jen.Id("e").Op(":=").Op("&").Id("b").Dot(acc).Index(jen.Id("i"))}
	seen = append(seen, em.combineCall(st, combineIn, "x", accum, jen.Id("e").Dot("a"), jen.Id("v1"))...)
	seen = append(seen, jen.Id("e").Dot("a").Op("=").Id("x"))
	if st.encodedKey() {
		// Equal encodings need not be equal keys: the SDK's entry holds its latest.
		seen = append(seen, jen.Id("e").Dot("k").Op("=").Id("v0"))
	}
	seen = append(seen,
		jen.Id("e").Dot("h").Op("=").Id("b").Dot("h"),
		jen.Return())
	body = append(body, jen.If(jen.List(jen.Id("i"), jen.Id("ok")).Op(":=").Id("b").Dot(idx).Index(key.Clone()), jen.Id("ok")).Block(seen...))
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
	f.Commentf("%s runs %s:", st.bodyName(), st.name)
	f.Commentf("%s's partial results per %s, held until the bundle ends or more than %d", shortFn(st.fn), per, precombineMax)
	if cf.add != nil {
		f.Commentf("%s are held. A key starts from a new accumulator and adds each value, as the", held)
		f.Comment("SDK's lifted combine does; each partial keeps the header of its key's last element.")
	} else {
		f.Commentf("%s are held. A key's first value is its accumulator, as the SDK has it for a", held)
		f.Comment("merge-only CombineFn; each partial keeps the header of its key's last element.")
	}
	if st.encodedKey() {
		f.Comment("Keys are told apart by their encoding with the SDK's key coder, as the SDK's lifted")
		f.Comment("combine tells them apart, and a partial goes out with its last element's key.")
	}
	f.Add(em.method(st.bodyName(), partParams("v", st.in.parts)...).Block(body...))
	f.Line()
	f.Commentf("flush%d emits what step%d holds, in first-seen order (the output is the same on every", st.idx, st.idx)
	f.Comment("run), each partial under the header of its last element, with no pane (the SDK's")
	f.Comment("combine nodes set none).")
	f.Add(em.method(fmt.Sprintf("flush%d", st.idx)).Block(
		jen.Id("h").Op(":=").Id("b").Dot("h"),
		jen.For(jen.Id("i").Op(":=").Range().Id("b").Dot(acc)).Block(
			jen.Id("e").Op(":=").Op("&").Id("b").Dot(acc).Index(jen.Id("i")),
			jen.Id("b").Dot("h").Op("=").Id("e").Dot("h"),
			jen.Id("b").Dot("h").Dot("Pane").Op("=").Qual(wirePath, "PaneInfo").Values(),
			jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx)).Call(jen.Id("e").Dot("k"), jen.Id("e").Dot("a")),
		),
		jen.Id("b").Dot("h").Op("=").Id("h"),
		jen.Clear(jen.Id("b").Dot(acc)),
		jen.Id("b").Dot(acc).Op("=").Id("b").Dot(acc).Index(jen.Op(":").Lit(0)),
		jen.Clear(jen.Id("b").Dot(idx)),
	))
}

// combined hands a combine step's output on as the SDK's combine nodes do: with the
// input's time and windows but no pane.
func combined(st *step, args ...jen.Code) []jen.Code {
	return []jen.Code{
		jen.Id("h").Op(":=").Id("b").Dot("h"),
		jen.Id("b").Dot("h").Dot("Pane").Op("=").Qual(wirePath, "PaneInfo").Values(),
		jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx)).Call(args...),
		jen.Id("b").Dot("h").Op("=").Id("h"),
	}
}

func (em *emitter) emitMerge(f *jen.File, st *step) {
	accum := st.outs[0].parts[1]
	body := em.startAccum(st, accum)
	loop := []jen.Code{jen.If(jen.Id("i").Op("==").Lit(0)).Block(jen.Id("a").Op("=").Id("x"), jen.Continue())}
	loop = append(loop, em.combineCall(st, st.comb.merge, "m", accum, jen.Id("a"), jen.Id("x"))...)
	loop = append(loop, jen.Id("a").Op("=").Id("m"))
	body = append(body,
		jen.For(jen.List(jen.Id("i"), jen.Id("x")).Op(":=").Range().Add(groupedRange("v1", st.in.parts[1]))).Block(loop...))
	body = append(body, combined(st, jen.Id("v0"), jen.Id("a"))...)
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
	f.Commentf("step%d runs %s:", st.idx, st.name)
	if st.comb.extract == nil {
		f.Comment("a CombineFn without ExtractOutput outputs its accumulator.")
		f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(
			combined(st, ids("v", len(st.in.parts))...)...))
		return
	}
	body := em.combineCall(st, st.comb.extract, "o", st.outs[0].parts[1], jen.Id("v1"))
	body = append(body, combined(st, jen.Id("v0"), jen.Id("o"))...)
	f.Commentf("%s's ExtractOutput of the merged accumulator.", shortFn(st.fn))
	f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(body...))
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
		body = append(body, jen.For(jen.List(jen.Id("_"), jen.Id("v")).Op(":=").Range().Add(groupedRange("v1", st.in.parts[1]))).Block(loop...))
	} else {
		loop = []jen.Code{jen.If(jen.Id("i").Op("==").Lit(0)).Block(jen.Id("a").Op("=").Id("v"), jen.Continue())}
		loop = append(loop, em.combineCall(st, cf.merge, "m", accum, jen.Id("a"), jen.Id("v"))...)
		loop = append(loop, jen.Id("a").Op("=").Id("m"))
		body = append(body, jen.For(jen.List(jen.Id("i"), jen.Id("v")).Op(":=").Range().Add(groupedRange("v1", st.in.parts[1]))).Block(loop...))
	}
	o := jen.Id("a")
	if cf.extract != nil {
		body = append(body, em.combineCall(st, cf.extract, "o", out[1], jen.Id("a"))...)
		o = jen.Id("o")
	}
	body = append(body, combined(st, jen.Id("v0"), o)...)
	f.Commentf("step%d runs %s, a combine not lifted:", st.idx, st.name)
	f.Commentf("%s combines a key's values into one accumulator and extracts it, as the SDK does.", shortFn(st.fn))
	f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(body...))
}
