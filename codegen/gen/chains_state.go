package gen

import (
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// User state of a stateful ParDo, as the Go SDK's exec.ParDo keeps it (exec/userstate.go):
// the DoFn's state fields (state.Value, Bag, Combining, Map, Set, OrderedList) are
// restored with the DoFn from its payload and take a state.Provider parameter, which the
// SDK makes anew for each call, for the element's key and its one window (a stateful DoFn
// runs once per window), over the State API. The chain gets the same provider from rt (rt.UserStates:
// exec's provider, ported, with the SDK's coders of the payload's state specs), so the
// DoFn reads and writes the bytes it would portably. Timers with side inputs keep the
// stage portable. Timers: chains_timers.go.

// statefulWhy says why a ParDo's user state or timers are not covered ("" if they are,
// or if it has none).
func statefulWhy(fn *capture.Fn, pd *pipepb.ParDoPayload) string {
	if len(fn.Timers) != len(pd.GetTimerFamilySpecs()) {
		return fmt.Sprintf("timers in %s: %d families in the payload, %d in the capture", shortFn(fn.Name), len(pd.GetTimerFamilySpecs()), len(fn.Timers))
	}
	if len(fn.Timers) > 0 && len(pd.GetSideInputs()) > 0 {
		// exec.ParDo.processTimer hands OnTimer the side inputs after its timers.Context.
		return fmt.Sprintf("timers and side inputs in %s: %s", shortFn(fn.Name), notCovered)
	}
	if len(pd.GetStateSpecs()) != len(fn.State) {
		return fmt.Sprintf("user state in %s: %d states in the payload, %d in the capture", shortFn(fn.Name), len(pd.GetStateSpecs()), len(fn.State))
	}
	for _, s := range fn.State {
		switch s.Kind {
		case "Value", "Bag", "Combining", "Map", "Set", "OrderedList":
		default:
			return fmt.Sprintf("%s state %q in %s: %s", s.Kind, s.ID, shortFn(fn.Name), notCovered)
		}
		if pd.GetStateSpecs()[s.ID] == nil {
			return fmt.Sprintf("user state %q of %s is not in its payload", s.ID, shortFn(fn.Name))
		}
	}
	return ""
}

// stateful says whether the step keeps user state: its ProcessElement takes a
// state.Provider.
func (st *step) stateful() bool {
	for _, p := range st.params {
		if p.kind == "StateProvider" {
			return true
		}
	}
	return false
}

// checkState says why a stateful step's input cannot key its state and timers ("" if
// it can): the SDK keys them by the key of a KV input.
func (st *step) checkState() string {
	if !st.stateful() && !st.timerful() {
		return ""
	}
	if st.in.shape == nil || st.in.shape.key == nil || len(st.in.parts) != 2 {
		return "user state or timers on an input that is not a KV"
	}
	return st.checkOnTimer()
}

// typeStateProvider is the declared type of a state.Provider parameter.
const typeStateProvider = "github.com/apache/beam/sdks/v2/go/pkg/beam/core/state.Provider"

func usName(st *step) string  { return fmt.Sprintf("us%d", st.idx) }
func ustName(st *step) string { return fmt.Sprintf("ust%d", st.idx) }

// statefulSteps are the chain's steps that keep user state.
func (ch *chain) statefulSteps() []*step {
	var out []*step
	for _, st := range ch.steps {
		if st.stateful() {
			out = append(out, st)
		}
	}
	return out
}

// stateStageFields are the stage's user state specs, one per stateful step.
func (em *emitter) stateStageFields() []jen.Code {
	var fields []jen.Code
	for _, st := range em.ch.statefulSteps() {
		fields = append(fields, jen.Id(usName(st)).Op("*").Qual(rtPath, "UserStates").Comment(st.name+"'s user state: its coders and combine functions"))
	}
	return fields
}

// stateFactory reads each stateful step's state specs (after its transform id is known).
func (em *emitter) stateFactory() []jen.Code {
	var body []jen.Code
	for _, st := range em.ch.statefulSteps() {
		body = append(body, jen.If(
			jen.List(jen.Id("s").Dot(usName(st)), jen.Err()).Op("=").Qual(rtPath, "NewUserStates").Call(
				jen.Id("env"), jen.Lit(st.name), jen.Id("s").Dot(fmt.Sprintf("tid%d", st.idx))),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Nil(), jen.Err())))
	}
	return body
}

// stateBundleFields are the bundle's user state, one per stateful step.
func (em *emitter) stateBundleFields() []jen.Code {
	var fields []jen.Code
	for _, st := range em.ch.statefulSteps() {
		fields = append(fields, jen.Id(ustName(st)).Op("*").Qual(rtPath, "UserStateBundle").Comment(st.name+"'s user state in the bundle"))
	}
	return fields
}

// stateStartBundle starts each stateful step's user state in the bundle: a harness that
// serves none fails the bundle here.
func (em *emitter) stateStartBundle() []jen.Code {
	var body []jen.Code
	for _, st := range em.ch.statefulSteps() {
		body = append(body, jen.If(
			jen.List(jen.Id("us"), jen.Err()).Op(":=").Id("s").Dot(usName(st)).Dot("Bundle").Call(jen.Id("ctx")),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Nil(), jen.Err())).Else().Block(jen.Id("b").Dot(ustName(st)).Op("=").Id("us")))
	}
	return body
}

// stateProvider is the statement a stateful step's body starts with: the call's
// provider, for the element's key (v0) and window.
func (em *emitter) stateProvider(st *step) []jen.Code {
	if !st.stateful() {
		return nil
	}
	return []jen.Code{
		jen.List(jen.Id("sp"), jen.Id("spErr")).Op(":=").Id("b").Dot(ustName(st)).Dot("Provider").Call(jen.Id("v0"), jen.Id("b").Dot("h").Dot("Windows")),
		jen.If(jen.Id("spErr").Op("!=").Nil()).Block(
			jen.Id("b").Dot("fail").Call(em.errorf(st.name+": %w", jen.Id("spErr"))),
			jen.Return()),
	}
}
