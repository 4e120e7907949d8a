package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// Boxed ParDos: a ParDo whose ProcessElement takes or returns values of a type the
// generated package cannot name (an unexported type of another package) is called with
// any values through the SDK's own caller of it (rt.BoxedDoFn: the function or method as
// the SDK harness decodes it, with the register.Function*/DoFn* caller when the program
// has one), resolved once per stage instance. Its other parameters (context, event time,
// window, emitters, iterators of nameable values) are what the typed path passes, and what
// it returns goes on as the chain holds it: checked out of any when the chain names the
// type, as it is otherwise. A ParDo whose signature the package can name keeps its typed
// call even over values the chain holds as any: those meet universal types (typex.T, ...;
// fits checks it), which take an any as it is and give it back unchanged.

// planBoxed marks a checked ParDo step boxed when its signature needs it, or says why the
// step cannot take or make the values the chain holds as any ("" if it can).
func (st *step) planBoxed() string {
	if st.kind != stepParDo || st.intrinsic != nil {
		return "" // an intrinsic passes held values on as they are; checkHeld refuses the rest
	}
	for _, pc := range append([]*pcoll{st.in}, st.outs...) {
		for _, p := range pc.parts {
			if p.Kind == capture.ValueKV || p.Kind == capture.ValueCoGBK {
				return fmt.Sprintf("a nested %s value: %s", p.Kind, notCovered)
			}
		}
	}
	if st.fnType.nameable() {
		return ""
	}
	vals := 0
	for _, p := range st.params {
		switch {
		case p.side != nil:
			return fmt.Sprintf("side inputs of a DoFn over values the generated package cannot name: %s", notCovered)
		case p.kind == "Value":
			if part := st.in.parts[vals]; part.Kind == capture.ValueIterable && spellable(part) != "" {
				return fmt.Sprintf("grouped values of %s as a value parameter: %s", valueTypeString(part), notCovered)
			}
		case !p.typ.nameable():
			return fmt.Sprintf("%s parameter %s, which the generated package cannot name: %s", p.kind, p.typ.str, notCovered)
		}
		if p.kind == "Value" || p.kind == "Iter" || p.kind == "ReIter" {
			vals++
		}
	}
	st.boxed = true
	return ""
}

// callField is the stage's field holding a boxed step's ProcessElement caller.
func callField(st *step) string { return methodField(st, "ProcessElement") }

// boxedCallType is the type of a boxed step's caller: reflectx.Func's Call.
func boxedCallType() *jen.Statement {
	return jen.Func().Params(jen.Index().Any()).Index().Any()
}

// boxedDecode are decode<idx>'s statements, after the payload, for a boxed step: its caller
// and, for a struct, the methods it calls on the same decoded value.
func (em *emitter) boxedDecode(st *step, wrap func(string, ...jen.Code) jen.Code) []jen.Code {
	body := []jen.Code{
		jen.List(jen.Id("d"), jen.Err()).Op(":=").Qual(rtPath, "DecodeBoxedDoFn").Call(jen.Id("payload")),
		jen.If(jen.Err().Op("!=").Nil()).Block(wrap("%w", jen.Err())),
		jen.If(jen.List(jen.Id("s").Dot(callField(st)), jen.Err()).Op("=").Id("d").Dot("ProcessElement").Call(), jen.Err().Op("!=").Nil()).Block(wrap("%w", jen.Err())),
	}
	if st.recv == nil {
		return body
	}
	body = append(body, jen.Id("recv").Op(":=").Id("d").Dot("Recv").Call())
	return append(body, em.structDecode(st, jen.Id("recv"), wrap)...)
}

// boxedCall is the body of a boxed step: the call with args as any values, then its
// results handled as the typed path handles them.
func (em *emitter) boxedCall(st *step, args []jen.Code) []jen.Code {
	call := jen.Id("b").Dot(callField(st)).Call(jen.Index().Any().Values(args...))
	if len(st.results) == 0 {
		return []jen.Code{call}
	}
	body := []jen.Code{jen.Id("res").Op(":=").Add(call)}
	if last := len(st.results) - 1; st.results[last].kind == "Error" {
		// An error fails the bundle before anything else is looked at, as in the typed
		// path; a nil error is a nil any.
		body = append(body, jen.If(jen.List(jen.Err(), jen.Id("_")).Op(":=").Id("res").Index(jen.Lit(last)).Assert(jen.Error()), jen.Err().Op("!=").Nil()).Block(
			jen.Id("b").Dot("fail").Call(em.errorf(st.name+": %w", jen.Err())),
			jen.Return()))
	}
	var outs []jen.Code
	et := false
	for i, r := range st.results {
		res := jen.Id("res").Index(jen.Lit(i))
		switch r.kind {
		case "EventTime":
			et = true
			body = append(body, em.checkedAssert("et", res, r.typ.code(), r.typ.str, st.name+" returned")...)
		case "Value":
			part := st.outs[0].parts[len(outs)]
			v := fmt.Sprintf("r%d", len(outs))
			if spellable(part) != "" {
				body = append(body, jen.Id(v).Op(":=").Add(res))
			} else {
				body = append(body, em.checkedAssert(v, res, goType(part), valueTypeString(part), st.name+" returned")...)
			}
			outs = append(outs, jen.Id(v))
		}
	}
	if len(outs) > 0 {
		body = append(body, em.deliver(jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx)), outs, et, jen.Id("et"))...)
	}
	return body
}

// checkedAssert declares v as x asserted to typ, failing the bundle if it is not one.
func (em *emitter) checkedAssert(v string, x, typ jen.Code, typStr, what string) []jen.Code {
	return []jen.Code{
		jen.List(jen.Id(v), jen.Id("ok")).Op(":=").Add(x).Assert(typ),
		jen.If(jen.Op("!").Id("ok")).Block(
			jen.Id("b").Dot("fail").Call(em.errorf(what+" a %T, want "+typStr, x)),
			jen.Return()),
	}
}
