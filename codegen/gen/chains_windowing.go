package gen

import (
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/dave/jennifer/jen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/sluice-runner/sluice/runner/wire"
)

// Windows in chains. An element's windows travel in its header (rt.Header.Windows): the
// global window, or interval windows in their wire form. A chain covers PCollections in
// the global window and in fixed, sliding and session windows (interval windows), and runs
// what the Go SDK's exec nodes do with windows:
//   - WindowInto assigns windows from the element's time, as exec.WindowInto does (fixed:
//     one window; sliding: every window holding the time, latest first; sessions: the
//     proto-session [t, t+gap), which the runner's grouping merges);
//   - a DoFn taking its window (typex.Window) is called once per window of an element in
//     several, each call's outputs in that window only (exec's mustExplodeWindows);
//     other DoFns are called once and their outputs keep all the element's windows;
//   - the lifted combine's precombine keys its cache by key and window, adding the element
//     to each of its windows (exec.LiftedCombine); the planner lifts combines of merging
//     window fns (sessions) too, and so does the SDK: its cache does not merge windows,
//     the runner's grouping and the merge step do.
// Not covered (the stage stays portable): custom window fns and window coders, window fns
// with an offset (the SDK ignores it), splittable DoFns on windowed PCollections, and
// struct DoFns whose StartBundle or FinishBundle emit into interval windows (the SDK
// emits those in the global window, which an interval window coder cannot write).

// Window fn URNs chains know.
const (
	urnWindowInto     = "beam:transform:window_into:v1"
	urnFixedWindows   = "beam:window_fn:fixed_windows:v1"
	urnSlidingWindows = "beam:window_fn:sliding_windows:v1"
	urnSessionWindows = "beam:window_fn:session_windows:v1"
	// typexWindow is the type of a DoFn's window parameter (beam.Window is an alias).
	typexWindow = "github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex.Window"
)

// windowing says whether PCollection id's elements are in interval windows (fixed,
// sliding or session windows) rather than the global window, or why the chain covers
// neither.
func windowing(comps *pipepb.Components, id string) (interval bool, why string) {
	ws := comps.GetWindowingStrategies()[comps.GetPcollections()[id].GetWindowingStrategyId()]
	wc := comps.GetCoders()[ws.GetWindowCoderId()].GetSpec().GetUrn()
	switch urn := ws.GetWindowFn().GetUrn(); urn {
	case urnGlobalWindows:
		if wc != wire.URNGlobalWindow {
			return false, fmt.Sprintf("global windows coded by %s: %s", wc, notCovered)
		}
		return false, ""
	case urnFixedWindows, urnSlidingWindows, urnSessionWindows:
		if wc != wire.URNIntervalWindow {
			return false, fmt.Sprintf("windowing %s coded by %s: %s", urn, wc, notCovered)
		}
		return true, ""
	default:
		return false, fmt.Sprintf("windowing %s: %s (global, fixed, sliding and session windows are)", urn, notCovered)
	}
}

// windowAssign is a WindowInto step's window fn, its durations in milliseconds as the SDK
// uses them (time.Duration.Milliseconds of the payload's durations).
type windowAssign struct {
	urn               string
	size, period, gap int64
}

// windowInto fills a WindowInto step from its payload, or says why it is not covered.
func (env *chainEnv) windowInto(st *step, t *pipepb.PTransform) string {
	st.kind = stepWindowInto
	var wp pipepb.WindowIntoPayload
	if err := proto.Unmarshal(t.GetSpec().GetPayload(), &wp); err != nil {
		return fmt.Sprintf("transform %s: bad WindowIntoPayload: %v", st.name, err)
	}
	var why string
	if st.win, why = parseWindowFn(wp.GetWindowFn()); why != "" {
		return fmt.Sprintf("transform %s: %s", st.name, why)
	}
	return ""
}

// parseWindowFn reads a window fn the chains know, or says why it is not covered.
func parseWindowFn(fn *pipepb.FunctionSpec) (*windowAssign, string) {
	w := &windowAssign{urn: fn.GetUrn()}
	var why string
	switch fn.GetUrn() {
	case urnGlobalWindows:
	case urnFixedWindows:
		var p pipepb.FixedWindowsPayload
		why = unmarshalWindowFn(fn, &p, p.GetOffset, duration{"size", p.GetSize, &w.size})
	case urnSlidingWindows:
		var p pipepb.SlidingWindowsPayload
		why = unmarshalWindowFn(fn, &p, p.GetOffset, duration{"size", p.GetSize, &w.size}, duration{"period", p.GetPeriod, &w.period})
	case urnSessionWindows:
		var p pipepb.SessionWindowsPayload
		why = unmarshalWindowFn(fn, &p, nil, duration{"gap", p.GetGapSize, &w.gap})
	default:
		why = fmt.Sprintf("window fn %s: %s", fn.GetUrn(), notCovered)
	}
	return w, why
}

// duration is a window fn payload's duration field: its name, getter, and where its
// milliseconds go.
type duration struct {
	name string
	get  func() *durationpb.Duration
	ms   *int64
}

// unmarshalWindowFn decodes a window fn's payload into p and its durations into their
// milliseconds, refusing an offset and durations that are invalid or not positive (the
// SDK fails on those, or divides by zero).
func unmarshalWindowFn(fn *pipepb.FunctionSpec, p proto.Message, offset func() *timestamppb.Timestamp, durations ...duration) string {
	if err := proto.Unmarshal(fn.GetPayload(), p); err != nil {
		return fmt.Sprintf("bad %s payload: %v", fn.GetUrn(), err)
	}
	if o := offset; o != nil && (o().GetSeconds() != 0 || o().GetNanos() != 0) {
		return fmt.Sprintf("window fn %s with an offset: %s (the Go SDK ignores offsets)", fn.GetUrn(), notCovered)
	}
	for _, d := range durations {
		pb := d.get()
		if err := pb.CheckValid(); err != nil {
			return fmt.Sprintf("window fn %s: its %s: %v", fn.GetUrn(), d.name, err)
		}
		if *d.ms = pb.AsDuration().Milliseconds(); *d.ms <= 0 {
			return fmt.Sprintf("window fn %s: its %s %v is not a positive number of milliseconds", fn.GetUrn(), d.name, pb.AsDuration())
		}
	}
	return ""
}

// checkWindows says why a planned step cannot run with the windows of its input and
// outputs ("" if it can).
func (st *step) checkWindows() string {
	switch st.kind {
	case stepWindowInto:
		if len(st.outs) != 1 || len(st.outs[0].parts) != len(st.in.parts) {
			return "its output is not its input's values"
		}
		for i, p := range st.in.parts {
			if valueTypeString(p) != valueTypeString(st.outs[0].parts[i]) {
				return "its output is not its input's values"
			}
		}
		if st.outs[0].windowed != (st.win.urn != urnGlobalWindows) {
			return fmt.Sprintf("its output's windowing does not match its window fn %s", st.win.urn)
		}
	case stepSDFPair, stepSDFSplit, stepSDFProcess:
		windowed := st.in.windowed
		for _, out := range st.outs {
			windowed = windowed || out.windowed
		}
		if windowed {
			return fmt.Sprintf("a splittable DoFn on interval windows: %s", notCovered)
		}
	}
	if st.recv == nil {
		return ""
	}
	for _, out := range st.outs {
		for _, lc := range st.recv.lifecycle {
			for _, p := range lc.params {
				if p.kind == "Emit" && out.windowed {
					return fmt.Sprintf("its %s emits into interval windows, where the SDK emits in the global window", lc.name)
				}
			}
		}
	}
	return ""
}

// explodes says whether the step runs once per window of an element in several: a DoFn
// taking its window, keeping user state (per key and window) or reading side inputs (in
// the window each main window maps to), and a precombine (which keys its cache by
// window), on interval windows, as exec's mustExplodeWindows says. Its method step<idx>
// then calls step<idx>w per window.
func (st *step) explodes() bool {
	if !st.in.windowed {
		return false
	}
	if st.kind == stepPrecombine {
		return true
	}
	for _, p := range st.params {
		if p.kind == "Window" || p.kind == "StateProvider" {
			return true
		}
	}
	return len(st.sides) > 0
}

// bodyName is the name of the method that runs the step on one element (in one window,
// when it explodes).
func (st *step) bodyName() string {
	if st.explodes() {
		return fmt.Sprintf("step%dw", st.idx)
	}
	return fmt.Sprintf("step%d", st.idx)
}

// emitExplode writes step<idx> of an exploding step: the element's single window goes
// straight through; several go one by one, the header naming one window each time; none
// is an error for a DoFn taking its window (the SDK's invoker refuses it) and nothing for
// a precombine (the SDK's loop over the windows does nothing).
func (em *emitter) emitExplode(f *jen.File, st *step) {
	hw := jen.Id("b").Dot("h").Dot("Windows")
	body := []jen.Code{
		jen.If(hw.Clone().Dot("Len").Call().Op("==").Lit(1)).Block(
			jen.Id("b").Dot(st.bodyName()).Call(ids("v", len(st.in.parts))...),
			jen.Return()),
	}
	if st.kind != stepPrecombine {
		body = append(body, jen.If(hw.Clone().Dot("Len").Call().Op("==").Lit(0)).Block(
			jen.Id("b").Dot("fail").Call(em.errorf(st.name+": DoFns that observe windows must be invoked with a single window, the element is in none")),
			jen.Return()))
	}
	body = append(body,
		jen.Id("h").Op(":=").Id("b").Dot("h"),
		jen.For(jen.Id("w").Op(":=").Range().Id("h").Dot("Windows").Dot("All").Call()).Block(
			hw.Clone().Op("=").Id("w"),
			jen.Id("b").Dot(st.bodyName()).Call(ids("v", len(st.in.parts))...)),
		jen.Id("b").Dot("h").Op("=").Id("h"))
	f.Commentf("step%d runs %s", st.idx, st.name)
	if st.kind == stepPrecombine {
		f.Comment("once per window of the element, as the SDK runs a lifted combine.")
	} else {
		f.Comment("once per window of the element, as the SDK runs a DoFn that observes its window, state or side inputs.")
	}
	f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(body...))
	f.Line()
}

// emitWindowInto writes a WindowInto step: the element goes on in the windows its time
// falls in, with the rest of its header.
func (em *emitter) emitWindowInto(f *jen.File, st *step) {
	var assign jen.Code
	ts := jen.Id("h").Dot("Timestamp")
	w := st.win
	switch w.urn {
	case urnGlobalWindows:
		f.Commentf("step%d runs %s: into the global window.", st.idx, st.name)
		assign = jen.Qual(rtPath, "GlobalWindow")
	case urnFixedWindows:
		f.Commentf("step%d runs %s: into the fixed window of %dms holding the element's time.", st.idx, st.name, w.size)
		assign = jen.Qual(rtPath, "AssignFixed").Call(ts, jen.Lit(int(w.size)))
	case urnSlidingWindows:
		f.Commentf("step%d runs %s: into the windows of %dms every %dms holding the element's time.", st.idx, st.name, w.size, w.period)
		assign = jen.Qual(rtPath, "AssignSliding").Call(ts, jen.Lit(int(w.size)), jen.Lit(int(w.period)))
	case urnSessionWindows:
		f.Commentf("step%d runs %s: into its proto-session of gap %dms.", st.idx, st.name, w.gap)
		assign = jen.Qual(rtPath, "AssignSession").Call(ts, jen.Lit(int(w.gap)))
	}
	f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(
		jen.Id("h").Op(":=").Id("b").Dot("h"),
		jen.Id("b").Dot("h").Dot("Windows").Op("=").Add(assign),
		jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx)).Call(ids("v", len(st.in.parts))...),
		jen.Id("b").Dot("h").Op("=").Id("h"),
	))
}

// windowArg is a DoFn's window argument: the element's (only) window as the SDK's type.
func windowArg() jen.Code {
	return jen.Id("b").Dot("h").Dot("Windows").Dot("Window").Call()
}

// precombineKeyType names the cache key type of a precombine on interval windows: its
// key and one window, as the SDK's lifted combine keys its cache.
func (em *emitter) precombineKeyType(st *step) string {
	return fmt.Sprintf("sluiceKey%sStep%d", em.ch.name, st.idx)
}
