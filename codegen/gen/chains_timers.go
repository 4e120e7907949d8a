package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// Timers of a ParDo, as the Go SDK's exec.ParDo runs them (exec/timers.go, pardo.go): a
// DoFn taking a timers.Provider sets timers (per key, from the element's key, and per
// window of the call), kept per key and window in the bundle, the last of each family
// and tag winning, and sent to the runner at its end; the runner fires them back as timer
// elements of a later bundle, and the DoFn's OnTimer runs for each, in the SDK's order
// (rt.UserTimersBundle, exec's adapter ported), its outputs at the timer's hold time in
// its window with no firing pane. OnTimer takes a context, its window and event time (the
// timer's window and hold time, as exec passes them), the state and timer providers, the
// key and the timers.Context, and ProcessElement's emitters (all of them, in order), and
// may return an error.

// typeTimerProvider and typeTimerContext are the declared types of a timers.Provider
// parameter and of OnTimer's timers.Context.
const (
	typeTimerProvider = "github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers.Provider"
	typeTimerContext  = "github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers.Context"
)

// onTimer is a struct DoFn's OnTimer method.
type onTimer struct {
	fnType *goTyp
	// params are its parameters: Context, Window, EventTime, StateProvider,
	// TimerProvider, Value (the key, then the timers.Context) or Emit with the index (in
	// the step's params) of the ProcessElement emitter it is.
	params []sigPart
	hasErr bool
}

// timerful says whether the step sets timers: its ProcessElement takes a timers.Provider.
func (st *step) timerful() bool {
	for _, p := range st.params {
		if p.kind == "TimerProvider" {
			return true
		}
	}
	return false
}

// timerSteps are the chain's steps with timers.
func (ch *chain) timerSteps() []*step {
	var out []*step
	for _, st := range ch.steps {
		if st.timerful() {
			out = append(out, st)
		}
	}
	return out
}

// planOnTimer plans a struct's OnTimer from the capture, or says why it is not covered.
func (st *step) planOnTimer(m capture.Method, what string) (*onTimer, string) {
	fnType, err := methodType(m)
	if err != nil {
		return nil, fmt.Sprintf("%s: its OnTimer: %v", what, err)
	}
	ot := &onTimer{fnType: fnType}
	var emitters []int // ProcessElement's, by index in st.params
	for i, p := range st.params {
		if p.kind == "Emit" {
			emitters = append(emitters, i)
		}
	}
	values, emits := 0, 0
	for i, p := range m.Params {
		part := sigPart{kind: p.Kind, typ: fnType.params[i]}
		switch {
		case p.Kind == "Context" && p.Type == "context.Context":
		case p.Kind == "Window" && p.Type == typexWindow:
		case p.Kind == "EventTime" && part.typ.isEventTime():
		case p.Kind == "StateProvider" && p.Type == typeStateProvider:
		case p.Kind == "TimerProvider" && p.Type == typeTimerProvider:
		case p.Kind == "Value" && values == 0:
			values++
		case p.Kind == "Value" && values == 1 && p.Type == typeTimerContext:
			values++
		case p.Kind == "Emit" && emits < len(emitters) && p.Type == st.params[emitters[emits]].typ.str:
			part.out = emitters[emits]
			emits++
		default:
			return nil, fmt.Sprintf("%s: a %s parameter of OnTimer (%s): %s", what, p.Kind, p.Type, notCovered)
		}
		ot.params = append(ot.params, part)
	}
	if values != 2 {
		return nil, fmt.Sprintf("%s: an OnTimer without its key and timers.Context: %s", what, notCovered)
	}
	if emits != 0 && emits != len(emitters) {
		return nil, fmt.Sprintf("%s: its OnTimer has %d emitters, its ProcessElement %d", what, emits, len(emitters))
	}
	for _, r := range m.Returns {
		if r.Kind != "Error" || r.Type != "error" || ot.hasErr {
			return nil, fmt.Sprintf("%s: a %s result of OnTimer: %s", what, r.Kind, notCovered)
		}
		ot.hasErr = true
	}
	return ot, ""
}

// checkOnTimer says why a step with timers cannot run them ("" if it can): it needs an
// OnTimer whose key parameter takes the input's key.
func (st *step) checkOnTimer() string {
	if !st.timerful() {
		return ""
	}
	if st.recv == nil || st.recv.onTimer == nil {
		return "timers without an OnTimer"
	}
	for _, p := range st.recv.onTimer.params {
		if p.kind == "Value" {
			if k := valueTypeString(st.in.parts[0]); p.typ.str != k {
				return fmt.Sprintf("OnTimer takes its key as %s, the key is a %s: %s", p.typ.str, k, notCovered)
			}
			break
		}
	}
	return ""
}

func utName(st *step) string  { return fmt.Sprintf("ut%d", st.idx) }
func utbName(st *step) string { return fmt.Sprintf("utb%d", st.idx) }

// timerStageFields are the stage's timer family specs, one per step with timers.
func (em *emitter) timerStageFields() []jen.Code {
	var fields []jen.Code
	for _, st := range em.ch.timerSteps() {
		fields = append(fields, jen.Id(utName(st)).Op("*").Qual(rtPath, "UserTimers").Comment(st.name+"'s timer families: their domains and coders"))
	}
	return fields
}

// timerFactory reads each step's timer family specs (after its transform id is known).
func (em *emitter) timerFactory() []jen.Code {
	var body []jen.Code
	for _, st := range em.ch.timerSteps() {
		body = append(body, jen.If(
			jen.List(jen.Id("s").Dot(utName(st)), jen.Err()).Op("=").Qual(rtPath, "NewUserTimers").Call(
				jen.Id("env"), jen.Lit(st.name), jen.Id("s").Dot(fmt.Sprintf("tid%d", st.idx))),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Nil(), jen.Err())))
	}
	return body
}

// timerBundleFields are the bundle's timers, one per step with timers.
func (em *emitter) timerBundleFields() []jen.Code {
	var fields []jen.Code
	for _, st := range em.ch.timerSteps() {
		fields = append(fields, jen.Id(utbName(st)).Op("*").Qual(rtPath, "UserTimersBundle").Comment(st.name+"'s timers in the bundle"))
	}
	return fields
}

func (em *emitter) timerStartBundle() []jen.Code {
	var body []jen.Code
	for _, st := range em.ch.timerSteps() {
		body = append(body, jen.Id("b").Dot(utbName(st)).Op("=").Id("s").Dot(utName(st)).Dot("Bundle").Call())
	}
	return body
}

// timerProvider is what a step with timers starts with: the element's key for the
// timers it sets, and the call's provider (its windows and pane).
func (em *emitter) timerProvider(st *step) []jen.Code {
	if !st.timerful() {
		return nil
	}
	return []jen.Code{
		jen.Id("b").Dot(utbName(st)).Dot("SetCurrentKey").Call(jen.Id("v0")),
		jen.Id("tp").Op(":=").Id("b").Dot(utbName(st)).Dot("Provider").Call(jen.Id("b").Dot("h")),
	}
}

// timerCheck fails the bundle when a timer could not be set (the SDK panics there).
func (em *emitter) timerCheck(st *step) []jen.Code {
	if !st.timerful() {
		return nil
	}
	return []jen.Code{jen.If(jen.Err().Op(":=").Id("tp").Dot("Err").Call(), jen.Err().Op("!=").Nil()).Block(
		jen.Id("b").Dot("fail").Call(em.errorf(st.name+": %w", jen.Err())),
		jen.Return())}
}

// emitTimers writes the bundle's rt.TimerBundle methods and each step's onTimer<idx>.
func (em *emitter) emitTimers(f *jen.File) {
	steps := em.ch.timerSteps()
	if len(steps) == 0 {
		return
	}
	var cases []jen.Code
	var flush []jen.Code
	for _, st := range steps {
		cases = append(cases, jen.Case(jen.Id("b").Dot(fmt.Sprintf("tid%d", st.idx))).Block(
			jen.If(jen.Err().Op(":=").Id("b").Dot(utbName(st)).Dot("ProcessTimers").Call(jen.Id("family"), jen.Id("data"), jen.Id("b").Dot(fmt.Sprintf("onTimer%d", st.idx))), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Err()))))
		flush = append(flush,
			jen.List(jen.Id("ts"), jen.Err()).Op(":=").Id("b").Dot(utbName(st)).Dot("Flush").Call(),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), em.errorf(st.name+": %w", jen.Err()))),
			jen.Id("out").Op("=").Append(jen.Id("out"), jen.Id("ts").Op("...")))
	}
	cases = append(cases, jen.Default().Block(jen.Return(em.errorf("timers for transform %q, which sets none", jen.Id("transformID")))))
	f.Comment("ProcessTimers fires timers the runner sent (rt.TimerBundle).")
	f.Func().Params(jen.Id("b").Op("*").Id(em.bundle)).Id("ProcessTimers").Params(jen.List(jen.Id("transformID"), jen.Id("family")).String(), jen.Id("data").Index().Byte()).Params(jen.Err().Error()).Block(
		jen.Comment("A panicking user function fails the bundle, as it does in the SDK harness."),
		jen.Defer().Func().Params().Block(
			jen.If(jen.Id("r").Op(":=").Recover(), jen.Id("r").Op("!=").Nil()).Block(
				jen.Err().Op("=").Add(em.errorf("panic: %v\n%s", jen.Id("r"), jen.Qual("runtime/debug", "Stack").Call())))).Call(),
		jen.Switch(jen.Id("transformID")).Block(cases...),
		jen.If(jen.Id("b").Dot("err").Op("!=").Nil()).Block(jen.Return(jen.Id("b").Dot("err"))),
		jen.Return(jen.Id("b").Dot("outErr").Call()))
	f.Line()
	f.Comment("Timers are the timers the bundle set, per family (rt.TimerBundle), once it finished.")
	body := append([]jen.Code{jen.Var().Id("out").Index().Qual(rtPath, "TimerOutput")}, flush...)
	body = append(body, jen.Return(jen.Id("out"), jen.Nil()))
	f.Func().Params(jen.Id("b").Op("*").Id(em.bundle)).Id("Timers").Params().Params(jen.Index().Qual(rtPath, "TimerOutput"), jen.Error()).Block(body...)
	for _, st := range steps {
		f.Line()
		em.emitOnTimer(f, st)
	}
}

// emitOnTimer writes onTimer<idx>: the step's OnTimer for one fired timer, its outputs
// under the timer's header.
func (em *emitter) emitOnTimer(f *jen.File, st *step) {
	ot := st.recv.onTimer
	key := st.in.parts[0]
	body := []jen.Code{
		jen.List(jen.Id("k"), jen.Id("ok")).Op(":=").Id("ft").Dot("Key").Assert(goType(key)),
		jen.If(jen.Op("!").Id("ok")).Block(jen.Return(em.errorf(st.name+": a timer's key is a %T, want "+valueTypeString(key), jen.Id("ft").Dot("Key")))),
		jen.Id("h").Op(":=").Id("b").Dot("h"),
		jen.Defer().Func().Params().Block(jen.Id("b").Dot("h").Op("=").Id("h")).Call(),
		jen.Id("b").Dot("h").Op("=").Id("ft").Dot("Header"),
	}
	var args []jen.Code
	values := 0
	for _, p := range ot.params {
		switch p.kind {
		case "Context":
			args = append(args, stepCtx(st))
		case "Window":
			args = append(args, jen.Id("ft").Dot("Header").Dot("Windows").Dot("Window").Call())
		case "EventTime":
			args = append(args, p.typ.code().Call(jen.Id("ft").Dot("Header").Dot("Timestamp")))
		case "StateProvider":
			body = append(body,
				jen.List(jen.Id("sp"), jen.Err()).Op(":=").Id("b").Dot(ustName(st)).Dot("Provider").Call(jen.Id("k"), jen.Id("ft").Dot("Header").Dot("Windows")),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(em.errorf(st.name+": %w", jen.Err()))))
			args = append(args, jen.Id("sp"))
		case "TimerProvider":
			body = append(body, jen.Id("tp").Op(":=").Id("b").Dot(utbName(st)).Dot("Provider").Call(jen.Id("ft").Dot("ProviderHeader")))
			args = append(args, jen.Id("tp"))
		case "Value":
			if values == 0 {
				args = append(args, jen.Id("k"))
			} else {
				args = append(args, jen.Qual("github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers", "Context").Values(jen.Dict{
					jen.Id("Family"): jen.Id("ft").Dot("Family"), jen.Id("Tag"): jen.Id("ft").Dot("Tag")}))
			}
			values++
		case "Emit":
			args = append(args, jen.Id("b").Dot(emitName(st, st.params[p.out])))
		}
	}
	call := em.structMethod("b", st, "OnTimer").Call(args...)
	if ot.hasErr {
		body = append(body, jen.If(jen.Err().Op(":=").Add(call), jen.Err().Op("!=").Nil()).Block(
			jen.Return(em.errorf(st.name+": OnTimer: %w", jen.Err()))))
	} else {
		body = append(body, call)
	}
	for _, p := range ot.params {
		if p.kind == "TimerProvider" {
			body = append(body, jen.If(jen.Err().Op(":=").Id("tp").Dot("Err").Call(), jen.Err().Op("!=").Nil()).Block(
				jen.Return(em.errorf(st.name+": OnTimer: %w", jen.Err()))))
		}
	}
	body = append(body, jen.Return(jen.Id("b").Dot("err")))
	f.Commentf("onTimer%d runs %s's OnTimer for a fired timer.", st.idx, shortFn(st.fn))
	f.Add(em.method(fmt.Sprintf("onTimer%d", st.idx), jen.Id("ft").Qual(rtPath, "FiredTimer")).Error().Block(body...))
}
