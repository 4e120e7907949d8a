package gen

import (
	"fmt"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// wirePath is runner/wire, whose PaneNoFiring is the pane of what a DoFn emits from
// StartBundle or FinishBundle.
const wirePath = "github.com/sluice-runner/sluice/runner/wire"

// structFn is what a chain knows of a struct DoFn: the type the SDK holds it as (*T, or T
// when the pipeline passed a value) and its lifecycle methods. Each stage instance decodes
// its own value from the ParDo's payload (rt.DoFn: configuration restored as the SDK
// restores it), runs Setup once, StartBundle and FinishBundle per bundle and Teardown at
// the end, as exec.ParDo does.
type structFn struct {
	typ   *goTyp // *T or T
	named *goTyp // T
	// lifecycle are its Setup, StartBundle, FinishBundle and Teardown, those it has.
	lifecycle []*lifecycle
	// calls are the splittable DoFn methods the step calls (chains_sdf.go).
	calls []*sdfMethod
	// noProcess is set for the steps of a splittable DoFn that do not call ProcessElement.
	noProcess bool
	// onTimer is its OnTimer, for a DoFn with timers (chains_timers.go).
	onTimer *onTimer
}

// boundMethod is a method a stage holds a method value of when it cannot name the type.
type boundMethod struct {
	name string
	typ  *goTyp
}

// bound are the methods of step st's struct DoFn that its chain calls.
func (st *step) bound() []boundMethod {
	var ms []boundMethod
	if !st.recv.noProcess && !st.boxed { // a boxed step calls it through its caller
		ms = append(ms, boundMethod{"ProcessElement", st.fnType})
	}
	for _, c := range st.recv.calls {
		ms = append(ms, boundMethod{c.name, c.fnType})
	}
	if ot := st.recv.onTimer; ot != nil {
		ms = append(ms, boundMethod{"OnTimer", ot.fnType})
	}
	for _, lc := range st.recv.lifecycle {
		ms = append(ms, boundMethod{lc.name, lc.fnType})
	}
	return ms
}

// lifecycle is one lifecycle method of a struct DoFn.
type lifecycle struct {
	name   string
	fnType *goTyp
	// params are Context, or Emit with the index (in the step's params) of the
	// ProcessElement emitter it is: the SDK hands StartBundle and FinishBundle the same
	// emitters, in the same order, and checks that their types match.
	params []sigPart
	hasErr bool
}

func (sf *structFn) method(name string) *lifecycle {
	for _, lc := range sf.lifecycle {
		if lc.name == name {
			return lc
		}
	}
	return nil
}

// methodType is the Go type of a method value, from the capture's parameters and results.
func methodType(m capture.Method) (*goTyp, error) {
	var ps, rs []string
	for _, p := range m.Params {
		ps = append(ps, p.Type)
	}
	for _, r := range m.Returns {
		rs = append(rs, r.Type)
	}
	s := "func(" + strings.Join(ps, ", ") + ")"
	switch len(rs) {
	case 0:
	case 1:
		s += " " + rs[0]
	default:
		s += " (" + strings.Join(rs, ", ") + ")"
	}
	return parseType(s)
}

// planStruct fills st.recv for a struct DoFn whose ProcessElement is planned, or says why
// the struct is not covered.
func (st *step) planStruct(fn *capture.Fn, what string) string {
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
	sf := &structFn{typ: typ, named: named}
	var emitters []int // the indices of ProcessElement's emitters in st.params
	for i, p := range st.params {
		if p.kind == "Emit" {
			emitters = append(emitters, i)
		}
	}
	for _, m := range fn.Methods {
		switch m.Name {
		case "ProcessElement":
			continue
		case "CreateInitialRestriction", "SplitRestriction", "RestrictionSize", "CreateTracker", "TruncateRestriction":
			if st.kind == stepSDFProcess {
				continue // chains_sdf.go plans those it calls
			}
			return fmt.Sprintf("%s: its %s method: %s", what, m.Name, notCovered)
		case "Setup", "StartBundle", "FinishBundle", "Teardown":
		case "OnTimer":
			ot, why := st.planOnTimer(m, what)
			if why != "" {
				return why
			}
			sf.onTimer = ot
			continue
		default:
			return fmt.Sprintf("%s: its %s method: %s", what, m.Name, notCovered)
		}
		lc := &lifecycle{name: m.Name}
		if lc.fnType, err = methodType(m); err != nil {
			return fmt.Sprintf("%s: its %s: %v", what, m.Name, err)
		}
		bundle := m.Name == "StartBundle" || m.Name == "FinishBundle"
		emits := 0
		for i, p := range m.Params {
			switch {
			case p.Kind == "Context" && p.Type == "context.Context":
				lc.params = append(lc.params, sigPart{kind: "Context"})
			case p.Kind == "Emit" && bundle && emits < len(emitters) && p.Type == st.params[emitters[emits]].typ.str:
				lc.params = append(lc.params, sigPart{kind: "Emit", out: emitters[emits]})
				emits++
			case p.Kind == "Emit" && bundle:
				return fmt.Sprintf("%s: its %s's emitter %d (%s) is not its ProcessElement's", what, m.Name, i, p.Type)
			default:
				return fmt.Sprintf("%s: a %s parameter of %s: %s", what, p.Kind, m.Name, notCovered)
			}
		}
		if emits != 0 && emits != len(emitters) {
			return fmt.Sprintf("%s: its %s has %d emitters, its ProcessElement %d", what, m.Name, emits, len(emitters))
		}
		for _, r := range m.Returns {
			if r.Kind != "Error" || r.Type != "error" || lc.hasErr {
				return fmt.Sprintf("%s: a %s result of %s: %s", what, r.Kind, m.Name, notCovered)
			}
			lc.hasErr = true
		}
		sf.lifecycle = append(sf.lifecycle, lc)
	}
	st.recv = sf
	return ""
}

// directStruct says whether the generated code can name a struct DoFn's type: then it
// asserts the decoded value to it and calls its methods directly; otherwise it takes
// method values of one-method interfaces it asserts, once per stage instance.
func (em *emitter) directStruct(st *step) bool {
	n := st.recv.named
	return isIdent(n.name) && (n.pkg == em.local || (exported(n.name) && importable(n.pkg)))
}

// methodField is the stage's field holding a method value of a struct it cannot name.
func methodField(st *step, name string) string {
	return fmt.Sprintf("%s%d", strings.ToLower(name[:1])+name[1:], st.idx)
}

func recvField(st *step) string { return fmt.Sprintf("recv%d", st.idx) }

// structMethod is how method name of step st's struct DoFn is called, from base (b or s).
func (em *emitter) structMethod(base string, st *step, name string) *jen.Statement {
	if em.directStruct(st) {
		return jen.Id(base).Dot(recvField(st)).Dot(name)
	}
	return jen.Id(base).Dot(methodField(st, name))
}

// lifecycleCall calls a lifecycle method; with an error result it is the condition of an
// if statement that handles it with onErr.
func (em *emitter) lifecycleCall(base string, st *step, lc *lifecycle, ctx jen.Code, onErr func(err jen.Code) jen.Code) jen.Code {
	var args []jen.Code
	for _, p := range lc.params {
		switch p.kind {
		case "Context":
			args = append(args, ctx)
		case "Emit":
			args = append(args, jen.Id(base).Dot(emitName(st, st.params[p.out])))
		}
	}
	call := em.structMethod(base, st, lc.name).Call(args...)
	if !lc.hasErr {
		return call
	}
	return jen.If(jen.Err().Op(":=").Add(call), jen.Err().Op("!=").Nil()).Block(
		onErr(em.errorf(st.name+": "+lc.name+": %w", jen.Err())))
}

// structSteps are the chain's struct DoFn steps, in stage order.
func (ch *chain) structSteps() []*step {
	var sts []*step
	for _, st := range ch.steps {
		if st.recv != nil {
			sts = append(sts, st)
		}
	}
	return sts
}

// decodedSteps are the steps whose user value each stage instance decodes from its
// transform's payload: struct DoFns and CombineFns, boxed ParDos' DoFns and boxed
// combines' CombineFns.
func (ch *chain) decodedSteps() []*step {
	var sts []*step
	for _, st := range ch.steps {
		if st.recv != nil || st.boxed || st.comb != nil && st.comb.boxed {
			sts = append(sts, st)
		}
	}
	return sts
}

// lifecycleUsesContext says whether a StartBundle or FinishBundle takes a context (the
// bundle's).
// ctxSteps are the steps whose user code takes a context. Each gets its own, naming its
// transform (rt.TransformContext), so that the user metrics it updates are reported as
// the transform's, as the SDK harness reports them.
func (ch *chain) ctxSteps() []*step {
	var out []*step
	for _, st := range ch.steps {
		if st.usesContext() {
			out = append(out, st)
		}
	}
	return out
}

func (st *step) usesContext() bool {
	for _, p := range st.params {
		if p.kind == "Context" {
			return true
		}
	}
	if st.comb != nil {
		for _, m := range st.comb.calls(st.kind) {
			if m.ctx {
				return true
			}
		}
	}
	if st.recv == nil {
		return false
	}
	if ot := st.recv.onTimer; ot != nil {
		for _, p := range ot.params {
			if p.kind == "Context" {
				return true
			}
		}
	}
	for _, c := range st.recv.calls {
		if c.ctx {
			return true
		}
	}
	for _, lc := range st.recv.lifecycle {
		for _, p := range lc.params {
			if p.kind == "Context" && (lc.name == "StartBundle" || lc.name == "FinishBundle") {
				return true
			}
		}
	}
	return false
}

// stepCtx is the context the step's user code gets in a bundle.
func stepCtx(st *step) *jen.Statement { return jen.Id("b").Dot(fmt.Sprintf("ctx%d", st.idx)) }

func (em *emitter) recovered(errVar string) jen.Code {
	return jen.Defer().Func().Params().Block(
		jen.If(jen.Id("r").Op(":=").Recover(), jen.Id("r").Op("!=").Nil()).Block(
			jen.Id(errVar).Op("=").Add(em.errorf("panic: %v\n%s", jen.Id("r"), jen.Qual("runtime/debug", "Stack").Call())),
		),
	).Call()
}

// emitStage writes the stage type, its factory (functions resolved by name, struct DoFns
// decoded and set up) and its Teardown.
func (em *emitter) emitStage(f *jen.File) {
	ch := em.ch
	var fields, resolve []jen.Code
	for _, st := range ch.steps {
		fields = append(fields, em.combineFields(st)...)
		if st.boxed {
			fields = append(fields, jen.Id(callField(st)).Add(boxedCallType()).Comment(shortFn(st.fn)+"'s ProcessElement, called with any values: the generated package cannot name its types"))
		}
		if st.recv != nil {
			if em.directStruct(st) {
				fields = append(fields, jen.Id(recvField(st)).Add(st.recv.typ.code()).Comment(shortFn(st.fn)+", decoded from the runner's payload"))
				continue
			}
			for i, m := range st.bound() {
				field := jen.Id(methodField(st, m.name)).Add(m.typ.code())
				if i == 0 {
					field.Comment(shortFn(st.fn) + "'s methods: the generated package cannot name it")
				}
				fields = append(fields, field)
			}
			continue
		}
		if _, _, ok := em.direct(st); ok || st.kind == stepExtract || st.kind == stepWindowInto || st.cg != nil || st.intrinsic != nil || st.boxed || st.comb != nil && st.comb.boxed {
			// extract calls nothing (a merge function's accumulator is its output), nor do
			// WindowInto, inject and expand; an intrinsic is written out; a boxed ParDo or
			// CombineFn is called through the SDK's callers
			continue
		}
		field := fmt.Sprintf("fn%d", st.idx)
		fields = append(fields, jen.Id(field).Add(st.fnType.code()).Comment(shortFn(st.fn)+", resolved by name: the generated package cannot name it"))
		resolve = append(resolve, jen.If(
			jen.List(jen.Id("s").Dot(field), jen.Err()).Op("=").Qual(rtPath, "Func").Types(st.fnType.code()).Call(jen.Lit(st.fn)),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Nil(), jen.Err())))
	}
	fields = append(fields, em.sdkStageFields()...)
	fields = append(fields, em.stateStageFields()...)
	fields = append(fields, em.timerStageFields()...)
	for _, st := range ch.tidSteps() {
		why := "its metrics' transform"
		switch {
		case st.usesContext():
		case len(st.sides) > 0:
			why = "its side inputs' state keys name it"
		case st.stateful() && st.timerful():
			why = "its user state keys and timers name it"
		case st.stateful():
			why = "its user state keys name it"
		default:
			why = "its timers name it"
		}
		fields = append(fields, jen.Id(fmt.Sprintf("tid%d", st.idx)).String().Comment("the runner's id of "+st.name+": "+why))
		resolve = append(resolve, jen.If(
			jen.List(jen.Id("s").Dot(fmt.Sprintf("tid%d", st.idx)), jen.Err()).Op("=").Id("env").Dot("TransformID").Call(jen.Lit(st.name)),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Nil(), jen.Err())))
	}
	f.Commentf("%s runs stage %s natively, as one fused chain of typed calls:", em.stage, ch.stage)
	for _, st := range ch.steps {
		f.Comment("  " + st.name)
	}
	f.Type().Id(em.stage).Struct(fields...)
	f.Line()

	structs, decoded := ch.structSteps(), ch.decodedSteps()
	env := jen.Id("_")
	if len(decoded) > 0 || em.usesSDKCodec() || len(ch.tidSteps()) > 0 {
		env = jen.Id("env")
	}
	body := []jen.Code{jen.Id("s").Op(":=").Op("&").Id(em.stage).Values()}
	results := []jen.Code{jen.Qual(rtPath, "Stage"), jen.Error()}
	if len(structs) > 0 {
		results = []jen.Code{jen.Id("_").Qual(rtPath, "Stage"), jen.Err().Error()}
		body = append(body, jen.Comment("A panicking Setup fails the instance, as it fails the SDK harness's bundle."), em.recovered("err"))
	} else if len(resolve) > 0 || em.usesSDKCodec() {
		body = append(body, jen.Var().Err().Error())
	}
	body = append(body, em.sdkFactory()...)
	body = append(body, resolve...)
	body = append(body, em.stateFactory()...)
	body = append(body, em.timerFactory()...)
	for _, st := range decoded {
		body = append(body, jen.If(jen.Err().Op(":=").Id("s").Dot(fmt.Sprintf("decode%d", st.idx)).Call(jen.Id("env")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Nil(), jen.Err())))
	}
	for _, st := range structs {
		if lc := st.recv.method("Setup"); lc != nil {
			body = append(body, em.lifecycleCall("s", st, lc, jen.Qual("context", "Background").Call(), func(err jen.Code) jen.Code {
				return jen.Return(jen.Nil(), err)
			}))
		}
	}
	body = append(body, jen.Return(jen.Id("s"), jen.Nil()))
	f.Commentf("%s makes an instance of stage %s's chain (rt.StageFactory).", em.ctor, ch.stage)
	if len(structs) > 0 {
		f.Comment("Each instance decodes its own struct DoFns and runs their Setup, in step order.")
	}
	f.Func().Id(em.ctor).Params(env.Qual(rtPath, "StageEnv")).Params(results...).Block(body...)
	f.Line()

	for _, st := range decoded {
		if st.comb != nil {
			em.emitCombineDecode(f, st)
		} else {
			em.emitDecode(f, st)
		}
		f.Line()
	}

	var teardown []jen.Code
	for _, st := range structs {
		if lc := st.recv.method("Teardown"); lc != nil {
			teardown = append(teardown, em.lifecycleCall("s", st, lc, jen.Qual("context", "Background").Call(), func(err jen.Code) jen.Code {
				return jen.Id("errs").Op("=").Append(jen.Id("errs"), err)
			}))
		}
	}
	if len(teardown) == 0 {
		f.Comment("Teardown has nothing to do: no DoFn of the stage has a Teardown.")
		f.Func().Params(jen.Id("s").Op("*").Id(em.stage)).Id("Teardown").Params().Error().Block(jen.Return(jen.Nil()))
	} else {
		body := []jen.Code{em.recovered("err"), jen.Var().Id("errs").Index().Error()}
		body = append(body, teardown...)
		body = append(body, jen.Return(jen.Qual("errors", "Join").Call(jen.Id("errs").Op("..."))))
		f.Comment("Teardown tears the struct DoFns down in step order, each even if one before failed.")
		f.Func().Params(jen.Id("s").Op("*").Id(em.stage)).Id("Teardown").Params().Params(jen.Err().Error()).Block(body...)
	}
	f.Line()
}

// emitDecode writes decode<idx>: the step's struct DoFn from the payload of its transform.
func (em *emitter) emitDecode(f *jen.File, st *step) {
	wrap := func(format string, args ...jen.Code) jen.Code {
		return jen.Return(em.errorf(st.name+": "+format, args...))
	}
	body := []jen.Code{
		jen.List(jen.Id("payload"), jen.Err()).Op(":=").Id("env").Dot("Payload").Call(jen.Lit(st.name)),
		jen.If(jen.Err().Op("!=").Nil()).Block(wrap("%w", jen.Err())),
	}
	if st.boxed {
		body = append(body, em.boxedDecode(st, wrap)...)
	} else {
		body = append(body,
			jen.List(jen.Id("recv"), jen.Err()).Op(":=").Qual(rtPath, "DoFn").Call(jen.Id("payload")),
			jen.If(jen.Err().Op("!=").Nil()).Block(wrap("%w", jen.Err())))
		body = append(body, em.structDecode(st, jen.Id("recv"), wrap)...)
	}
	body = append(body, jen.Return(jen.Nil()))
	f.Commentf("decode%d decodes step%d's DoFn (%s) from the payload the runner sent for", st.idx, st.idx, shortFn(st.fn))
	f.Comment("its transform: the value the pipeline built, its configuration restored as the Go SDK")
	if st.boxed {
		f.Comment("restores it, and the SDK's caller of its ProcessElement.")
	} else {
		f.Comment("restores it.")
	}
	f.Func().Params(jen.Id("s").Op("*").Id(em.stage)).Id(fmt.Sprintf("decode%d", st.idx)).Params(jen.Id("env").Qual(rtPath, "StageEnv")).Error().Block(body...)
}

// structDecode sets the stage's fields of st's struct from its decoded value recv: the
// value itself when the generated package can name its type, else its method values.
func (em *emitter) structDecode(st *step, recv *jen.Statement, wrap func(string, ...jen.Code) jen.Code) []jen.Code {
	if !em.directStruct(st) {
		return em.boundMethods(st, recv, wrap)
	}
	return []jen.Code{
		jen.List(jen.Id("fn"), jen.Id("ok")).Op(":=").Add(recv.Clone()).Assert(st.recv.typ.code()),
		jen.If(jen.Op("!").Id("ok")).Block(wrap("the payload holds a %T, want "+st.recv.typ.str, recv.Clone())),
		jen.Id("s").Dot(recvField(st)).Op("=").Id("fn"),
	}
}

// boundMethods sets the stage's method fields of st's struct, recv, whose type the
// generated package cannot name, though its methods' types it can: asserting an interface
// of one method gives a method value the compiler calls directly (a reflect method value
// would cost a reflective call per element).
func (em *emitter) boundMethods(st *step, recv *jen.Statement, wrap func(string, ...jen.Code) jen.Code) []jen.Code {
	var body []jen.Code
	for i, m := range st.bound() {
		mi := fmt.Sprintf("m%d", i)
		body = append(body,
			jen.List(jen.Id(mi), jen.Id("ok")).Op(":=").Add(recv.Clone()).Assert(jen.Interface(methodSig(m.name, m.typ))),
			jen.If(jen.Op("!").Id("ok")).Block(wrap("%T has no method "+m.name+" "+strings.TrimPrefix(m.typ.str, "func"), recv.Clone())),
			jen.Id("s").Dot(methodField(st, m.name)).Op("=").Id(mi).Dot(m.name))
	}
	return body
}

// lifecycleHeader is the header of what StartBundle and FinishBundle emit: the SDK
// invokes them at time zero (mtime.ZeroTimestamp), in the global window, with no firing
// pane.
func lifecycleHeader() jen.Code {
	return jen.Qual(rtPath, "Header").Values(jen.Dict{jen.Id("Pane"): jen.Qual(wirePath, "PaneNoFiring")})
}

// emitStartBundles writes startBundles, if a struct DoFn of the chain has a StartBundle:
// downstream steps first, as the SDK starts a ParDo's outputs before it, so that what one
// emits reaches started steps.
func (em *emitter) emitStartBundles(f *jen.File) bool {
	var calls []jen.Code
	structs := em.ch.structSteps()
	for i := len(structs) - 1; i >= 0; i-- {
		st := structs[i]
		if lc := st.recv.method("StartBundle"); lc != nil {
			calls = append(calls,
				em.lifecycleCall("b", st, lc, stepCtx(st), func(err jen.Code) jen.Code { return jen.Return(err) }),
				jen.If(jen.Id("b").Dot("err").Op("!=").Nil()).Block(jen.Return(jen.Id("b").Dot("err"))))
		}
	}
	if len(calls) == 0 {
		return false
	}
	body := []jen.Code{em.recovered("err"), jen.Id("b").Dot("h").Op("=").Add(lifecycleHeader())}
	body = append(body, calls...)
	body = append(body, jen.Return(jen.Id("b").Dot("outErr").Call()))
	f.Comment("startBundles runs the struct DoFns' StartBundle, downstream steps first as in the SDK; what")
	f.Comment("they emit is at time zero with no firing pane.")
	f.Add(em.method("startBundles").Params(jen.Err().Error()).Block(body...))
	f.Line()
	return true
}

// finishSteps are Finish's statements: in step order, a lifted combine emits what it
// holds and a struct DoFn's FinishBundle runs, so that what either emits still reaches
// the steps after it before they finish (the SDK finishes a ParDo before its outputs).
func (em *emitter) finishSteps() []jen.Code {
	var stmts []jen.Code
	for _, st := range em.ch.steps {
		switch {
		case st.kind == stepPrecombine:
			stmts = append(stmts, jen.Id("b").Dot(fmt.Sprintf("flush%d", st.idx)).Call())
		case st.recv != nil && st.recv.method("FinishBundle") != nil:
			stmts = append(stmts,
				jen.Id("b").Dot("h").Op("=").Add(lifecycleHeader()),
				em.lifecycleCall("b", st, st.recv.method("FinishBundle"), stepCtx(st), func(err jen.Code) jen.Code {
					return jen.Id("b").Dot("fail").Call(err)
				}),
				jen.If(jen.Id("b").Dot("err").Op("!=").Nil()).Block(jen.Return(jen.Id("b").Dot("err"))))
		}
	}
	return stmts
}
