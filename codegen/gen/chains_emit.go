package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// nativePath is the worker-side harness the generated file imports when it registers a
// chain: its init hooks the harness into the SDK's, so that registering is all it takes.
const nativePath = "github.com/sluice-runner/sluice/codegen/native"

// precombineMax is how many keys a lifted combine holds in a bundle before it emits them
// all: the Go SDK's lifted combine caches at most 2000 (exec.LiftedCombine).
const precombineMax = 2000

// emitter names what the generated code for one chain is called.
type emitter struct {
	ch                  *chain
	local               string // the generated package's path: its functions are called by name
	stage, bundle, ctor string
}

func (ch *chain) typeNames(local string) *emitter {
	return &emitter{ch: ch, local: local, stage: "sluiceStage" + ch.name, bundle: "sluiceBundle" + ch.name, ctor: "newSluiceStage" + ch.name}
}

// direct says whether the generated code can call the step's function by name: a
// function of the generated package, or an exported one of an importable package.
// Others (the SDK's unexported functions, closures, methods) are resolved by name once
// per stage instance with rt.Func, as the SDK harness itself resolves them.
func (em *emitter) direct(st *step) (pkg, name string, ok bool) {
	slash := strings.LastIndexByte(st.fn, '/') + 1
	dot := strings.IndexByte(st.fn[slash:], '.')
	if dot < 0 {
		return "", "", false
	}
	pkg, name = st.fn[:slash+dot], st.fn[slash+dot+1:]
	return pkg, name, isIdent(name) && (pkg == em.local || (exported(name) && importable(pkg)))
}

// callee is how a step's function is called.
func (em *emitter) callee(st *step) *jen.Statement {
	if st.recv != nil {
		return em.structMethod("b", st, "ProcessElement")
	}
	if pkg, name, ok := em.direct(st); ok {
		return jen.Qual(pkg, name)
	}
	return jen.Id("b").Dot(fmt.Sprintf("fn%d", st.idx))
}

func (em *emitter) errorf(format string, args ...jen.Code) *jen.Statement {
	return jen.Qual("fmt", "Errorf").Call(append([]jen.Code{jen.Lit("sluice: stage " + em.ch.stage + ": " + format)}, args...)...)
}

func partParams(prefix string, parts []capture.Value) []jen.Code {
	ps := make([]jen.Code, len(parts))
	for i, p := range parts {
		ps[i] = jen.Id(fmt.Sprintf("%s%d", prefix, i)).Add(valType(p))
	}
	return ps
}

func ids(prefix string, n int) []jen.Code {
	c := make([]jen.Code, n)
	for i := range c {
		c[i] = jen.Id(fmt.Sprintf("%s%d", prefix, i))
	}
	return c
}

func (em *emitter) method(name string, params ...jen.Code) *jen.Statement {
	return jen.Func().Params(jen.Id("b").Op("*").Id(em.bundle)).Id(name).Params(params...)
}

// emit writes the chain: its stage and bundle types, its Stage and Bundle methods, a
// method per PCollection handing an element to its consumers and a method per step.
func (em *emitter) emit(f *jen.File) {
	ch := em.ch
	em.emitStage(f)
	em.emitStartBundle(f)
	em.emitBundle(f)
	em.emitCounts(f)
	em.emitSplit(f)
	if ch.inCode == nil {
		em.emitSDKDecode(f)
	}
	for _, pc := range ch.pcolls {
		for _, i := range pc.outIdx {
			if ch.outs[i] == nil {
				em.emitSDKAppend(f, i, pc)
			}
		}
	}
	em.emitMultimapReads(f)
	em.emitTimers(f)
	for _, pc := range ch.pcolls {
		f.Line()
		em.emitPCollection(f, pc)
	}
	for _, st := range ch.steps {
		f.Line()
		switch st.kind {
		case stepParDo, stepSDFProcess:
			if st.explodes() {
				em.emitExplode(f, st)
			}
			em.emitParDo(f, st)
		case stepSDFPair, stepSDFSplit:
			em.emitSDF(f, st)
		case stepWindowInto:
			em.emitWindowInto(f, st)
		case stepInject:
			em.emitInject(f, st)
		case stepExpand:
			em.emitExpand(f, st)
		case stepPrecombine, stepMerge, stepExtract, stepCombine:
			if st.explodes() {
				em.emitExplode(f, st)
			}
			em.emitCombineStep(f, st)
		}
	}
}

func (em *emitter) emitStartBundle(f *jen.File) {
	ch := em.ch
	n := len(ch.outs)
	body := []jen.Code{
		jen.If(jen.Len(jen.Id("outs")).Op("!=").Lit(n)).Block(jen.Return(jen.Nil(),
			em.errorf(fmt.Sprintf("the harness gave %%d outputs, want %d", n), jen.Len(jen.Id("outs"))))),
		jen.Id("b").Op(":=").Op("&").Id(em.bundle).Values(jen.Dict{
			jen.Id(em.stage): jen.Id("s"),
			jen.Id("outs"):   jen.Id("outs"),
		}),
	}
	body = append(body, em.sdkStartBundle()...)
	body = append(body, em.splitStartBundle()...)
	body = append(body, em.sideStartBundle()...)
	body = append(body, em.stateStartBundle()...)
	body = append(body, em.timerStartBundle()...)
	body = append(body, em.groupStartBundle()...)
	if steps := ch.ctxSteps(); len(steps) > 0 {
		body = append(body, jen.Comment("Each transform taking a context gets the bundle's, naming the transform."))
		for _, st := range steps {
			body = append(body, stepCtx(st).Op("=").Qual(rtPath, "TransformContext").Call(jen.Id("ctx"), jen.Id("s").Dot(fmt.Sprintf("tid%d", st.idx))))
		}
	}
	for _, st := range ch.steps {
		switch st.kind {
		case stepPrecombine:
			body = append(body, jen.Id("b").Dot(fmt.Sprintf("idx%d", st.idx)).Op("=").Map(em.keyType(st)).Int().Values())
		case stepParDo, stepSDFProcess:
			for _, p := range st.params {
				if p.kind == "Emit" {
					body = append(body, jen.Id("b").Dot(emitName(st, p)).Op("=").Add(em.emitterFunc(st, p)))
				}
			}
		}
	}
	if em.emitStartBundles(f) {
		body = append(body, jen.If(jen.Err().Op(":=").Id("b").Dot("startBundles").Call(), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Err())))
	}
	body = append(body, jen.Return(jen.Id("b"), jen.Nil()))
	f.Comment("StartBundle starts a bundle: its emitters are made here, once.")
	f.Func().Params(jen.Id("s").Op("*").Id(em.stage)).Id("StartBundle").Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("outs").Index().Op("*").Qual(rtPath, "Output")).Params(jen.Qual(rtPath, "Bundle"), jen.Error()).Block(body...)
	f.Line()
}

// emitCounts writes PCollectionCounts (rt.PCollectionCounter): the chain's PCollections by
// producing transform and output tag, with their element counts.
func (em *emitter) emitCounts(f *jen.File) {
	var vals []jen.Code
	for _, pc := range em.ch.pcolls {
		if pc.producer == "" {
			continue
		}
		vals = append(vals, jen.Values(jen.Dict{
			jen.Id("Transform"): jen.Lit(pc.producer),
			jen.Id("Output"):    jen.Lit(pc.tag),
			jen.Id("Count"):     jen.Id("b").Dot("counts").Index(jen.Lit(pc.idx)),
		}))
	}
	f.Comment("PCollectionCounts implements rt.PCollectionCounter.")
	f.Func().Params(jen.Id("b").Op("*").Id(em.bundle)).Id("PCollectionCounts").Params().Index().Qual(rtPath, "PCollectionCount").Block(
		jen.Return(jen.Index().Qual(rtPath, "PCollectionCount").Values(vals...)))
	f.Line()
}

func emitName(st *step, p sigPart) string { return fmt.Sprintf("emit%dx%d", st.idx, p.out) }

// emitterFunc is the function a ParDo's emitter is: the consuming PCollection's method
// itself when the emitter's declared types are its values' types, else a closure that
// converts boxed values (checked) and sets the event time it is given.
func (em *emitter) emitterFunc(st *step, p sigPart) jen.Code {
	out := st.outs[p.out]
	target := jen.Id("b").Dot(fmt.Sprintf("pcoll%d", out.idx))
	decl := p.typ.params
	et := decl[0].isEventTime()
	if et {
		decl = decl[1:]
	}
	plain := !et
	for i, d := range decl {
		if d.str != valueTypeString(out.parts[i]) {
			plain = false
		}
	}
	if plain {
		return target
	}
	var params []jen.Code
	if et {
		params = append(params, jen.Id("et").Add(p.typ.params[0].code()))
	}
	for i, d := range decl {
		params = append(params, jen.Id(fmt.Sprintf("x%d", i)).Add(d.code()))
	}
	body, args := em.convert("x", decl, out.parts, st.name+" emitted")
	body = append(body, em.deliver(target, args, et, jen.Id("et"))...)
	return jen.Func().Params(params...).Block(body...)
}

// convert turns the declared values prefix<i> into the PCollection's values: as they are
// when the types are the same or the chain holds the value as any, else a checked
// assertion out of the universal type.
func (em *emitter) convert(prefix string, decl []*goTyp, parts []capture.Value, what string) ([]jen.Code, []jen.Code) {
	var stmts, args []jen.Code
	for i, d := range decl {
		src := fmt.Sprintf("%s%d", prefix, i)
		if d.str == valueTypeString(parts[i]) || d.universal() && spellable(parts[i]) != "" {
			// A universal value goes on as it is where the chain holds the value as any.
			args = append(args, jen.Id(src))
			continue
		}
		dst := fmt.Sprintf("c%d", i)
		stmts = append(stmts,
			jen.List(jen.Id(dst), jen.Id("ok")).Op(":=").Id(src).Assert(goType(parts[i])),
			jen.If(jen.Op("!").Id("ok")).Block(
				jen.Id("b").Dot("fail").Call(em.errorf(what+" a %T, want "+valueTypeString(parts[i]), jen.Id(src))),
				jen.Return(),
			))
		args = append(args, jen.Id(dst))
	}
	return stmts, args
}

// deliver calls target with args, under the event time et when the function set one.
func (em *emitter) deliver(target *jen.Statement, args []jen.Code, et bool, etExpr jen.Code) []jen.Code {
	if !et {
		return []jen.Code{target.Call(args...)}
	}
	return []jen.Code{
		jen.Id("h").Op(":=").Id("b").Dot("h"),
		jen.Id("b").Dot("h").Dot("Timestamp").Op("=").Int64().Call(etExpr),
		target.Call(args...),
		jen.Id("b").Dot("h").Op("=").Id("h"),
	}
}

func (em *emitter) emitBundle(f *jen.File) {
	ch := em.ch
	fields := []jen.Code{
		jen.Op("*").Id(em.stage),
		jen.Id("outs").Index().Op("*").Qual(rtPath, "Output"),
		jen.Comment("h is the header of the element in flight: what the chain's outputs carry."),
		jen.Id("h").Qual(rtPath, "Header"),
		jen.Comment("err is the first error: emitters cannot return one, so steps record it here"),
		jen.Comment("and the bundle returns it after the element."),
		jen.Id("err").Error(),
	}
	for _, st := range ch.ctxSteps() {
		fields = append(fields, jen.Id(fmt.Sprintf("ctx%d", st.idx)).Qual("context", "Context"))
	}
	fields = append(fields, jen.Comment("counts are the elements of each PCollection, by pcoll method (rt.PCollectionCounter)."),
		jen.Id("counts").Index(jen.Lit(len(ch.pcolls))).Int64())
	fields = append(fields, em.sdkBundleFields()...)
	fields = append(fields, em.splitBundleFields()...)
	fields = append(fields, em.sideBundleFields()...)
	fields = append(fields, em.stateBundleFields()...)
	fields = append(fields, em.timerBundleFields()...)
	fields = append(fields, em.groupBundleFields()...)
	for _, st := range ch.steps {
		switch st.kind {
		case stepParDo, stepSDFProcess:
			for _, p := range st.params {
				if p.kind == "Emit" {
					fields = append(fields, jen.Id(emitName(st, p)).Add(p.typ.code()))
				}
			}
		case stepPrecombine:
			fields = append(fields,
				jen.Id(fmt.Sprintf("acc%d", st.idx)).Index().Id(em.accType(st)).Comment("step"+fmt.Sprint(st.idx)+"'s keys, in first-seen order"),
				jen.Id(fmt.Sprintf("idx%d", st.idx)).Map(em.keyType(st)).Int().Comment("where each key is in acc"+fmt.Sprint(st.idx)))
		}
	}
	f.Commentf("%s is a bundle in progress on %s.", em.bundle, em.stage)
	f.Type().Id(em.bundle).Struct(fields...)
	for _, st := range ch.steps {
		if st.kind == stepPrecombine && st.in.windowed {
			f.Line()
			f.Commentf("%s is a key of step%d's cache: the key and one window.", em.precombineKeyType(st), st.idx)
			f.Type().Id(em.precombineKeyType(st)).Struct(
				jen.Id("k").Add(em.plainKeyType(st)),
				jen.Id("w").Qual(rtPath, "Windows"),
			)
		}
		if st.kind == stepPrecombine {
			f.Line()
			if st.encodedKey() {
				f.Commentf("%s is a key step%d holds: the key, accumulator and header of its last element.", em.accType(st), st.idx)
			} else {
				f.Commentf("%s is a key step%d holds: its accumulator and the header of its last element.", em.accType(st), st.idx)
			}
			f.Type().Id(em.accType(st)).Struct(
				jen.Id("k").Add(valType(st.in.parts[0])),
				jen.Id("a").Add(valType(st.outs[0].parts[1])),
				jen.Id("h").Qual(rtPath, "Header"),
			)
		}
	}
	f.Line()

	// A panicking user function fails the bundle, as it does in the SDK harness.
	recovered := func() jen.Code {
		return jen.Defer().Func().Params().Block(
			jen.If(jen.Id("r").Op(":=").Recover(), jen.Id("r").Op("!=").Nil()).Block(
				jen.Err().Op("=").Add(em.errorf("panic: %v\n%s", jen.Id("r"), jen.Qual("runtime/debug", "Stack").Call())),
			),
		).Call()
	}
	in := ch.input
	var decoded []jen.Code
	for i := range in.parts {
		decoded = append(decoded, jen.Id(fmt.Sprintf("v%d", i)))
	}
	decode := jen.Id("b").Dot("decodeInput")
	if ch.inCode != nil {
		decode = jen.Id("sluiceDecode" + ch.inCode.Name)
	}
	process := []jen.Code{
		jen.Comment("A panicking user function fails the bundle, as it does in the SDK harness."),
		recovered(),
		jen.List(append(decoded, jen.Id("n"), jen.Err())...).Op(":=").Add(decode).Call(jen.Id("data")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(0), em.errorf("decoding an element of "+in.name+": %w", jen.Err()))),
	}
	for i, p := range in.parts {
		v := jen.Id(fmt.Sprintf("v%d", i))
		switch {
		case p.Kind == capture.ValueBytes:
			process = append(process,
				jen.Comment("Decoded bytes alias the harness's buffer; user code may keep them, as the SDK allows."),
				jen.Add(v).Op("=").Qual("bytes", "Clone").Call(v))
		case p.Kind == capture.ValueIterable && p.Components[0].Kind == capture.ValueBytes:
			process = append(process,
				jen.Comment("Decoded bytes alias the harness's buffer; user code may keep them, as the SDK allows."),
				jen.For(jen.Id("i").Op(":=").Range().Add(v).Dot("Inline")).Block(jen.Add(v).Dot("Inline").Index(jen.Id("i")).Op("=").Qual("bytes", "Clone").Call(jen.Add(v).Dot("Inline").Index(jen.Id("i")))))
		}
	}
	process = append(process, em.groupProcess()...)
	process = append(process,
		jen.Id("b").Dot("h").Op("=").Id("h"),
		jen.Id("b").Dot(fmt.Sprintf("pcoll%d", in.idx)).Call(decoded...),
		jen.If(jen.Id("b").Dot("err").Op("!=").Nil()).Block(jen.Return(jen.Id("n"), jen.Id("b").Dot("err"))),
		jen.Return(jen.Id("n"), jen.Id("b").Dot("outErr").Call()),
	)
	f.Comment("Process runs one element through the chain.")
	f.Func().Params(jen.Id("b").Op("*").Id(em.bundle)).Id("Process").Params(jen.Id("h").Qual(rtPath, "Header"), jen.Id("data").Index().Byte()).Params(jen.Id("n").Int(), jen.Err().Error()).Block(process...)
	f.Line()
	em.emitReadsGroupState(f)

	finish := append([]jen.Code{recovered()}, em.finishSteps()...)
	finish = append(finish,
		jen.If(jen.Id("b").Dot("err").Op("!=").Nil()).Block(jen.Return(jen.Id("b").Dot("err"))),
		jen.Return(jen.Id("b").Dot("outErr").Call()))
	f.Comment("Finish ends the bundle: lifted combines emit what they hold and DoFns' FinishBundle")
	f.Comment("run, in step order, so that what one emits may still reach a later one.")
	f.Func().Params(jen.Id("b").Op("*").Id(em.bundle)).Id("Finish").Params().Params(jen.Err().Error()).Block(finish...)
	f.Line()

	f.Comment("fail records the bundle's first error.")
	f.Add(em.method("fail", jen.Err().Error()).Block(
		jen.If(jen.Id("b").Dot("err").Op("==").Nil()).Block(jen.Id("b").Dot("err").Op("=").Err())))
	f.Line()
	f.Comment("outErr is the first output's failed send, if any.")
	f.Add(em.method("outErr").Error().Block(
		jen.For(jen.List(jen.Id("_"), jen.Id("o")).Op(":=").Range().Id("b").Dot("outs")).Block(
			jen.If(jen.Err().Op(":=").Id("o").Dot("Err").Call(), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err()))),
		jen.Return(jen.Nil())))
}

func (em *emitter) accType(st *step) string {
	return fmt.Sprintf("sluiceAcc%sStep%d", em.ch.name, st.idx)
}

// emitPCollection writes pcoll<idx>: an element of the PCollection goes to each consumer
// in stage order, then to the stage outputs it is.
func (em *emitter) emitPCollection(f *jen.File, pc *pcoll) {
	body := []jen.Code{jen.If(jen.Id("b").Dot("err").Op("!=").Nil()).Block(jen.Return())}
	if pc.producer != "" {
		body = append(body, jen.Id("b").Dot("counts").Index(jen.Lit(pc.idx)).Op("++"))
	}
	var to []string
	for _, st := range pc.consumers {
		body = append(body, jen.Id("b").Dot(fmt.Sprintf("step%d", st.idx)).Call(ids("v", len(pc.parts))...))
		to = append(to, fmt.Sprintf("step%d", st.idx))
	}
	for _, i := range pc.outIdx {
		out := jen.Id("b").Dot("outs").Index(jen.Lit(i))
		args := append([]jen.Code{jen.Id("buf")}, ids("v", len(pc.parts))...)
		if em.ch.outs[i] == nil {
			// An encoding error leaves the element out: End is what adds it.
			body = append(body, jen.Block(
				jen.Id("buf").Op(":=").Add(out).Dot("Begin").Call(jen.Id("b").Dot("h")),
				jen.List(jen.Id("buf"), jen.Err()).Op(":=").Id("b").Dot(fmt.Sprintf("appendOut%d", i)).Call(args...),
				jen.If(jen.Err().Op("!=").Nil()).Block(
					jen.Id("b").Dot("fail").Call(em.errorf(fmt.Sprintf("output %d: %%w", i), jen.Err())),
					jen.Return()),
				jen.Add(jen.Id("b").Dot("outs").Index(jen.Lit(i))).Dot("End").Call(jen.Id("buf"))))
			to = append(to, fmt.Sprintf("output %d", i))
			continue
		}
		body = append(body,
			jen.Id("buf").Op(":=").Add(out).Dot("Begin").Call(jen.Id("b").Dot("h")),
			jen.Id("buf").Op("=").Id("sluiceAppend"+em.ch.outs[i].Name).Call(args...),
			jen.Add(jen.Id("b").Dot("outs").Index(jen.Lit(i))).Dot("End").Call(jen.Id("buf")))
		to = append(to, fmt.Sprintf("output %d", i))
	}
	if len(to) == 0 {
		to = append(to, "nothing reads it")
	}
	f.Commentf("pcoll%d hands on an element of PCollection %q", pc.idx, pc.name)
	f.Commentf("to %s.", strings.Join(to, ", "))
	f.Add(em.method(fmt.Sprintf("pcoll%d", pc.idx), partParams("v", pc.parts)...).Block(body...))
}

func (em *emitter) emitParDo(f *jen.File, st *step) {
	var args []jen.Code
	vals := 0
	for _, p := range st.params {
		switch p.kind {
		case "Context":
			args = append(args, stepCtx(st))
		case "EventTime":
			args = append(args, p.typ.code().Call(jen.Id("b").Dot("h").Dot("Timestamp")))
		case "Window":
			args = append(args, windowArg())
		case "Value":
			if p.side != nil {
				args = append(args, sideArg(st, p))
				continue
			}
			args = append(args, jen.Id(fmt.Sprintf("v%d", vals)))
			vals++
		case "Iter", "ReIter", "MultiMap":
			if p.side != nil {
				args = append(args, sideArg(st, p))
				continue
			}
			args = append(args, groupedIterator(p, fmt.Sprintf("v%d", vals), st.in.parts[vals]))
			vals++
		case "RTracker":
			args = append(args, jen.Id("tr"))
		case "StateProvider":
			args = append(args, jen.Id("sp"))
		case "TimerProvider":
			args = append(args, jen.Id("tp"))
		case "Emit":
			args = append(args, jen.Id("b").Dot(emitName(st, p)))
		}
	}
	if st.intrinsic != nil {
		f.Commentf("step%d runs %s", st.idx, st.name)
		f.Commentf("(%s, written out: the SDK function only rearranges its arguments).", shortFn(st.fn))
		f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(
			jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx)).Call(st.intrinsic.values()...)))
		return
	}
	call := em.callee(st).Call(args...)
	body := append(em.sideReads(st), em.stateProvider(st)...)
	body = append(body, em.timerProvider(st)...)
	post := em.timerCheck(st)
	if st.kind == stepSDFProcess {
		body, post = em.trackerStmts(st) // no side inputs: chains.go refuses them there
	}
	switch {
	case st.boxed:
		body = em.boxedCall(st, args) // neither side inputs nor a tracker: planBoxed refuses them
	case len(st.results) == 0:
		body = append(body, call)
		body = append(body, post...)
	default:
		var lhs []jen.Code
		var decl []*goTyp
		et, hasErr := false, false
		for _, r := range st.results {
			switch r.kind {
			case "EventTime":
				lhs, et = append(lhs, jen.Id("et")), true
			case "Error":
				lhs, hasErr = append(lhs, jen.Err()), true
			case "Value":
				lhs = append(lhs, jen.Id(fmt.Sprintf("r%d", len(decl))))
				decl = append(decl, r.typ)
			}
		}
		body = append(body, jen.List(lhs...).Op(":=").Add(call))
		if hasErr {
			body = append(body, jen.If(jen.Err().Op("!=").Nil()).Block(
				jen.Id("b").Dot("fail").Call(em.errorf(st.name+": %w", jen.Err())),
				jen.Return()))
		}
		body = append(body, post...)
		if len(decl) > 0 {
			stmts, conv := em.convert("r", decl, st.outs[0].parts, st.name+" returned")
			body = append(body, stmts...)
			body = append(body, em.deliver(jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx)), conv, et, jen.Id("et"))...)
		}
	}
	f.Commentf("%s runs %s", st.bodyName(), st.name)
	if st.boxed {
		f.Commentf("(%s, through the SDK's caller: the generated package cannot name its values).", shortFn(st.fn))
	} else {
		f.Commentf("(%s).", shortFn(st.fn))
	}
	f.Add(em.method(st.bodyName(), partParams("v", st.in.parts)...).Block(body...))
}

// iterator is an iterator parameter over the decoded values vs: func(*V) bool, as the SDK
// hands a DoFn grouped values (once through; false from then on), or func() func(*V) bool
// for a re-iterable side input, each call a new pass. V may be a universal type: each
// value is boxed as it is handed on.
func iterator(p sigPart, vs string) jen.Code {
	elem := iterElem(p)
	pass := jen.Func().Params(jen.Id("p").Op("*").Add(elem.code())).Bool().Block(
		jen.If(jen.Id("i").Op(">=").Len(jen.Id(vs))).Block(jen.Return(jen.False())),
		jen.Op("*").Id("p").Op("=").Id(vs).Index(jen.Id("i")),
		jen.Id("i").Op("++"),
		jen.Return(jen.True()),
	)
	if p.kind == "ReIter" {
		return jen.Func().Params().Add(p.typ.results[0].code()).Block(
			jen.Id("i").Op(":=").Lit(0),
			jen.Return(pass),
		)
	}
	return jen.Func().Params().Add(p.typ.code()).Block(
		jen.Id("i").Op(":=").Lit(0),
		jen.Return(pass),
	).Call()
}
