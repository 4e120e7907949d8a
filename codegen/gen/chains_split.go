package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// Dynamic splits. The runner splits a long bundle of a splittable stage to share its
// restriction with idle subtasks (runner/worker's shareWork). A chain whose first step
// processes a splittable DoFn's sized elements answers such a split as the SDK's
// ProcessSizedElementsAndRestrictions does for its element in progress: TrySplit on the
// tracker, and the residual handed back as an element of the stage's input (the element,
// the residual restriction, the watermark estimator state and its size), so that another
// subtask processes it. Only trackers safe to split while ProcessElement claims from them
// qualify: the SDK's *sdf.LockRTracker, which textio's and fileio's trackers are.

// splitStep is the step that answers splits, or nil when the chain cannot split.
func (ch *chain) splitStep() *step {
	if len(ch.steps) == 0 || ch.inCode != nil {
		return nil // residuals are coded with the input's SDK coder
	}
	st := ch.steps[0]
	if st.kind != stepSDFProcess || st.in != ch.input || st.elemParts() != 1 || len(st.in.parts) != 4 {
		return nil
	}
	ct, rs := st.recv.call("CreateTracker"), st.recv.call("RestrictionSize")
	if ct == nil || rs == nil || ct.out.str != "*"+sdfPath+".LockRTracker" || rs.ctx {
		return nil
	}
	return st
}

// splitBundleFields are the bundle's fields for splits: the element in progress, guarded
// by splitMu because Split runs on the harness's control goroutine.
func (em *emitter) splitBundleFields() []jen.Code {
	st := em.ch.splitStep()
	if st == nil {
		return nil
	}
	in := st.in.parts
	return []jen.Code{
		jen.Comment("The element in progress, for Split (called on another goroutine)."),
		jen.Id("splitMu").Qual("sync", "Mutex"),
		jen.Id("splitTracker").Op("*").Qual(sdfPath, "LockRTracker"),
		jen.Id("splitElem").Add(goType(in[0])),
		jen.Id("splitWES").Add(goType(in[2])),
		jen.Id("splitH").Qual(rtPath, "Header"),
		jen.Id("splitCodec").Op("*").Qual(rtPath, "SDKCodec"),
	}
}

// splitStartBundle makes the codec residuals are encoded with.
func (em *emitter) splitStartBundle() []jen.Code {
	if em.ch.splitStep() == nil {
		return nil
	}
	return []jen.Code{jen.Id("b").Dot("splitCodec").Op("=").Qual(rtPath, "NewSDKCodec").Call(jen.Id("s").Dot(inCoderField()))}
}

// splitTrack and splitUntrack bracket ProcessElement in the split step.
func (em *emitter) splitTrack(st *step) []jen.Code {
	if em.ch.splitStep() != st {
		return nil
	}
	return []jen.Code{
		jen.Id("b").Dot("splitMu").Dot("Lock").Call(),
		jen.List(jen.Id("b").Dot("splitTracker"), jen.Id("b").Dot("splitElem"), jen.Id("b").Dot("splitWES"), jen.Id("b").Dot("splitH")).Op("=").
			List(jen.Id("tr"), jen.Id("v0"), jen.Id("v2"), jen.Id("b").Dot("h")),
		jen.Id("b").Dot("splitMu").Dot("Unlock").Call(),
	}
}

func (em *emitter) splitUntrack(st *step) []jen.Code {
	if em.ch.splitStep() != st {
		return nil
	}
	return []jen.Code{
		jen.Id("b").Dot("splitMu").Dot("Lock").Call(),
		jen.Id("b").Dot("splitTracker").Op("=").Nil(),
		jen.Id("b").Dot("splitMu").Dot("Unlock").Call(),
	}
}

// emitSplit writes the bundle's Split method (rt.Splitter).
func (em *emitter) emitSplit(f *jen.File) {
	st := em.ch.splitStep()
	if st == nil {
		return
	}
	rest := st.in.parts[1]
	f.Comment("Split implements rt.Splitter: it splits the restriction in progress at fraction of what")
	f.Comment("remains, as the SDK's ProcessSizedElementsAndRestrictions does, and returns the residual")
	f.Comment("as an element of the stage's input; nil when there is nothing to split.")
	f.Func().Params(jen.Id("b").Op("*").Id(em.bundle)).Id("Split").Params(jen.Id("fraction").Float64()).Params(jen.Id("residual").Index().Byte(), jen.Err().Error()).Block(
		em.recovered("err"),
		jen.Id("b").Dot("splitMu").Dot("Lock").Call(),
		jen.Defer().Id("b").Dot("splitMu").Dot("Unlock").Call(),
		jen.If(jen.Id("b").Dot("splitTracker").Op("==").Nil()).Block(jen.Return(jen.Nil(), jen.Nil())),
		jen.List(jen.Id("_"), jen.Id("r"), jen.Err()).Op(":=").Id("b").Dot("splitTracker").Dot("TrySplit").Call(jen.Id("fraction")),
		jen.If(jen.Err().Op("!=").Nil().Op("||").Id("r").Op("==").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.List(jen.Id("rest"), jen.Id("ok")).Op(":=").Id("r").Assert(goType(rest)),
		jen.If(jen.Op("!").Id("ok")).Block(jen.Return(jen.Nil(), em.errorf(fmt.Sprintf("%s: the tracker split off a %%T, want %s", st.name, valueTypeString(rest)), jen.Id("r")))),
		jen.Id("size").Op(":=").Add(em.structMethod("b", st, "RestrictionSize")).Call(jen.Id("b").Dot("splitElem"), jen.Id("rest")),
		jen.Id("fv").Op(":=").Qual(execPath, "FullValue").Values(jen.Dict{
			jen.Id("Elm"): jen.Op("&").Qual(execPath, "FullValue").Values(jen.Dict{
				jen.Id("Elm"):  jen.Id("b").Dot("splitElem"),
				jen.Id("Elm2"): jen.Op("&").Qual(execPath, "FullValue").Values(jen.Dict{jen.Id("Elm"): jen.Id("rest"), jen.Id("Elm2"): jen.Id("b").Dot("splitWES")}),
			}),
			jen.Id("Elm2"): jen.Id("size"),
		}),
		jen.Return(jen.Id("b").Dot("splitCodec").Dot("Append").Call(jen.Qual(rtPath, "AppendGlobalHeader").Call(jen.Nil(), jen.Id("b").Dot("splitH")), jen.Op("&").Id("fv"))),
	)
	f.Line()
}
