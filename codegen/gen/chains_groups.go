package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// Grouped values (a GroupByKey's output on a stage's input) are rt.Values in a chain
// whose input has a typed coder: the values the group's element carries, then, for a
// group larger than the runner sends whole, the rest read from runner state as the steps
// iterate them (the bundle's context carries the reader). Such a chain's bundles say so
// (rt.GroupStateBundle), and the harness hands them state-backed groups as they come.
// Groups of values the package cannot name are boxed slices, decoded by the SDK's coder,
// and the harness reads such groups whole before the chain sees them.

// readsGroupState says whether the chain reads grouped values in runner state itself.
func (ch *chain) readsGroupState() bool {
	if ch.inCode == nil {
		return false
	}
	for _, p := range ch.input.parts {
		if p.Kind == capture.ValueIterable && spellable(p) == "" {
			return true
		}
	}
	return false
}

// groupBundleFields are the bundle's fields for reading groups: its context.
func (em *emitter) groupBundleFields() []jen.Code {
	if !em.ch.readsGroupState() {
		return nil
	}
	return []jen.Code{jen.Id("ctx").Qual("context", "Context").Comment("the bundle's: values of a large group in runner state are read with it")}
}

func (em *emitter) groupStartBundle() []jen.Code {
	if !em.ch.readsGroupState() {
		return nil
	}
	return []jen.Code{jen.Id("b").Dot("ctx").Op("=").Id("ctx")}
}

// groupProcess are the statements that give the input element's grouped values the
// bundle's context.
func (em *emitter) groupProcess() []jen.Code {
	if !em.ch.readsGroupState() {
		return nil
	}
	var stmts []jen.Code
	for i, p := range em.ch.input.parts {
		if p.Kind == capture.ValueIterable {
			v := jen.Id(fmt.Sprintf("v%d", i))
			stmts = append(stmts, v.Clone().Op("=").Add(v).Dot("In").Call(jen.Id("b").Dot("ctx")))
		}
	}
	return stmts
}

// emitReadsGroupState writes the bundle's rt.GroupStateBundle method.
func (em *emitter) emitReadsGroupState(f *jen.File) {
	if !em.ch.readsGroupState() {
		return
	}
	f.Comment("ReadsGroupState implements rt.GroupStateBundle: the chain reads a large group's values")
	f.Comment("in runner state as it iterates them.")
	f.Func().Params(jen.Op("*").Id(em.bundle)).Id("ReadsGroupState").Params().Block()
	f.Line()
}

// groupedRange is what a step ranges over (index, value) to read grouped values v: the
// slice of a group of values the package cannot name (boxed), or rt.Values, whose values
// in runner state are read as the loop reaches them (a failed read fails the bundle and
// ends the loop).
func groupedRange(v string, part capture.Value) *jen.Statement {
	if spellable(part) != "" {
		return jen.Id(v)
	}
	return jen.Id(v).Dot("All").Call(jen.Id("b").Dot("fail"))
}

// groupedIterator is an iterator parameter func(*V) bool over grouped values vs of part:
// rt.Values' own iterator, which reads values in runner state as the DoFn reaches them,
// wrapped to box each value when V is a universal type; or iterator over the slice of a
// group of values the package cannot name.
func groupedIterator(p sigPart, vs string, part capture.Value) jen.Code {
	if spellable(part) != "" {
		return iterator(p, vs)
	}
	next := jen.Id(vs).Dot("Iter").Call(jen.Id("b").Dot("fail"))
	elem := iterElem(p)
	if elem.str == valueTypeString(part.Components[0]) {
		return next
	}
	return jen.Func().Params().Add(p.typ.code()).Block(
		jen.Id("next").Op(":=").Add(next),
		jen.Return(jen.Func().Params(jen.Id("p").Op("*").Add(elem.code())).Bool().Block(
			jen.Var().Id("x").Add(goType(part.Components[0])),
			jen.If(jen.Op("!").Id("next").Call(jen.Op("&").Id("x"))).Block(jen.Return(jen.False())),
			jen.Op("*").Id("p").Op("=").Id("x"),
			jen.Return(jen.True()),
		)),
	).Call()
}
