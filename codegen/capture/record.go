package capture

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/funcx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
)

// PlaceholderEndpoint is the endpoint of the external environment a capture is marshalled
// with. The environment only has to exist for the planner; nothing connects to it.
const PlaceholderEndpoint = "sluicecapture:0"

// Record captures p: it builds the graph, marshals it as the universal runner would (with a
// placeholder external environment) and collects the Go facts of every edge. It does not
// run anything. The capture runner calls it inside the user's program; tests call it on
// pipelines built in-process.
func Record(ctx context.Context, p *beam.Pipeline) (*Capture, error) {
	edges, _, err := p.Build()
	if err != nil {
		return nil, fmt.Errorf("building the pipeline graph: %w", err)
	}
	env, err := graphx.CreateEnvironment(ctx, graphx.URNEnvExternal, func(context.Context) string { return PlaceholderEndpoint })
	if err != nil {
		return nil, fmt.Errorf("creating the placeholder environment: %w", err)
	}
	pp, err := graphx.Marshal(edges, &graphx.Options{Environment: env})
	if err != nil {
		return nil, fmt.Errorf("marshalling the pipeline: %w", err)
	}
	// graphx computes the roots from a map: their order varies from run to run and means
	// nothing. Sorted, the same program always captures the same bytes.
	sort.Strings(pp.RootTransformIds)
	c := &Capture{Pipeline: pp}
	for _, e := range edges {
		fe, err := edgeFacts(e)
		if err != nil {
			return nil, fmt.Errorf("edge %d (%s %s): %w", e.ID(), e.Op, e.Name(), err)
		}
		c.Edges = append(c.Edges, fe)
	}
	return c, nil
}

func edgeFacts(e *graph.MultiEdge) (Edge, error) {
	fe := Edge{ID: fmt.Sprintf("e%d", e.ID()), Op: string(e.Op), Scope: scopePath(e.Scope())}
	if e.Op == graph.Combine && e.Scope() != nil && e.Scope().Label == graph.CombinePerKeyScope {
		fe.Composite = fmt.Sprintf("s%d", e.Scope().ID())
	}
	switch {
	case e.DoFn != nil:
		fe.Fn = doFnFacts(e.DoFn)
	case e.CombineFn != nil:
		fe.Fn = combineFnFacts(e.CombineFn)
		fe.AccumCoder = coderString(e.AccumCoder)
		accum := valueOf(e.AccumCoder)
		fe.Accum = &accum
	}
	if e.WindowFn != nil {
		fe.WindowFn = e.WindowFn.String()
	}
	for _, in := range e.Input {
		fe.Inputs = append(fe.Inputs, Port{
			Kind:        string(in.Kind),
			PCollection: fmt.Sprintf("n%d", in.From.ID()),
			Type:        FullTypeString(in.From.Type()),
			FnType:      fnType(in.Type, in.From.Type()),
			Coder:       coderString(in.From.Coder),
			Value:       valueOf(in.From.Coder),
			Windowing:   windowingString(in.From.WindowingStrategy()),
			Bounded:     in.From.Bounded(),
		})
	}
	for _, out := range e.Output {
		fe.Outputs = append(fe.Outputs, Port{
			PCollection: fmt.Sprintf("n%d", out.To.ID()),
			Type:        FullTypeString(out.To.Type()),
			FnType:      fnType(out.Type, out.To.Type()),
			Coder:       coderString(out.To.Coder),
			Value:       valueOf(out.To.Coder),
			Windowing:   windowingString(out.To.WindowingStrategy()),
			Bounded:     out.To.Bounded(),
		})
	}
	return fe, nil
}

// fnType is the function's view of a port, if it differs from the PCollection's type.
func fnType(fn, node typex.FullType) string {
	if f, n := FullTypeString(fn), FullTypeString(node); f != n {
		return f
	}
	return ""
}

// scopePath is the "/"-joined labels of s and its parents, without the root scope.
func scopePath(s *graph.Scope) string {
	var labels []string
	for ; s != nil && s.Parent != nil; s = s.Parent {
		labels = append(labels, s.Label)
	}
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, "/")
}

func fnKind(f *graph.Fn) (kind, typ string) {
	switch {
	case f.DynFn != nil:
		return "dynamic", TypeString(f.DynFn.T)
	case f.Fn != nil:
		return "func", TypeString(f.Fn.Fn.Type())
	default:
		return "struct", TypeString(reflect.TypeOf(f.Recv))
	}
}

func doFnFacts(d *graph.DoFn) *Fn {
	kind, typ := fnKind((*graph.Fn)(d))
	f := &Fn{Name: d.Name(), Kind: kind, Type: typ, Splittable: d.IsSplittable()}
	add := func(name string, fn *funcx.Fn) {
		if fn != nil {
			f.Methods = append(f.Methods, method(name, fn))
		}
	}
	add("Setup", d.SetupFn())
	add("StartBundle", d.StartBundleFn())
	add("ProcessElement", d.ProcessElementFn())
	add("FinishBundle", d.FinishBundleFn())
	add("Teardown", d.TeardownFn())
	if fn, ok := d.OnTimerFn(); ok {
		add("OnTimer", fn)
	}
	if d.IsSplittable() {
		sdf := (*graph.SplittableDoFn)(d)
		add("CreateInitialRestriction", sdf.CreateInitialRestrictionFn())
		add("SplitRestriction", sdf.SplitRestrictionFn())
		add("RestrictionSize", sdf.RestrictionSizeFn())
		add("CreateTracker", sdf.CreateTrackerFn())
		if sdf.HasTruncateRestriction() {
			add("TruncateRestriction", sdf.TruncateRestrictionFn())
		}
		if sdf.IsWatermarkEstimating() {
			add("CreateWatermarkEstimator", sdf.CreateWatermarkEstimatorFn())
		}
		if sdf.IsStatefulWatermarkEstimating() {
			add("InitialWatermarkEstimatorState", sdf.InitialWatermarkEstimatorStateFn())
			add("WatermarkEstimatorState", sdf.WatermarkEstimatorStateFn())
		}
	}
	for _, ps := range d.PipelineState() {
		s := State{ID: ps.StateKey(), Kind: stateKind(ps.StateType()), Type: TypeString(ps.CoderType())}
		if ps.StateType() == state.TypeMap {
			s.Key = TypeString(ps.KeyCoderType())
		}
		f.State = append(f.State, s)
	}
	sort.Slice(f.State, func(i, j int) bool { return f.State[i].ID < f.State[j].ID })
	pts, _ := d.PipelineTimers()
	for _, pt := range pts {
		for fam, dom := range pt.Timers() {
			f.Timers = append(f.Timers, Timer{Family: fam, Domain: timeDomain(dom)})
		}
	}
	sort.Slice(f.Timers, func(i, j int) bool { return f.Timers[i].Family < f.Timers[j].Family })
	return f
}

func combineFnFacts(c *graph.CombineFn) *Fn {
	kind, typ := fnKind((*graph.Fn)(c))
	f := &Fn{Name: c.Name(), Kind: kind, Type: typ}
	add := func(name string, fn *funcx.Fn) {
		if fn != nil {
			f.Methods = append(f.Methods, method(name, fn))
		}
	}
	add("Setup", c.SetupFn())
	add("CreateAccumulator", c.CreateAccumulatorFn())
	add("AddInput", c.AddInputFn())
	add("MergeAccumulators", c.MergeAccumulatorsFn())
	add("ExtractOutput", c.ExtractOutputFn())
	add("Compact", c.CompactFn())
	add("Teardown", c.TeardownFn())
	return f
}

func method(name string, fn *funcx.Fn) Method {
	m := Method{Name: name}
	for _, p := range fn.Param {
		m.Params = append(m.Params, Param{Kind: p.Kind.String(), Type: TypeString(p.T)})
	}
	for _, r := range fn.Ret {
		m.Returns = append(m.Returns, Param{Kind: r.Kind.String(), Type: TypeString(r.T)})
	}
	return m
}

func stateKind(t state.TypeEnum) string {
	switch t {
	case state.TypeValue:
		return "Value"
	case state.TypeBag:
		return "Bag"
	case state.TypeCombining:
		return "Combining"
	case state.TypeMap:
		return "Map"
	case state.TypeSet:
		return "Set"
	case state.TypeOrderedList:
		return "OrderedList"
	}
	return fmt.Sprintf("StateType(%d)", int(t))
}

func timeDomain(d timers.TimeDomain) string {
	switch d {
	case timers.EventTimeDomain:
		return "EventTime"
	case timers.ProcessingTimeDomain:
		return "ProcessingTime"
	}
	return fmt.Sprintf("TimeDomain(%d)", int(d))
}

func coderString(c *coder.Coder) string {
	if c == nil {
		return ""
	}
	return c.String()
}

// windowingString names the window function, accumulation mode and allowed lateness, and
// the trigger's kind (the trigger itself is in the pipeline proto).
func windowingString(ws *window.WindowingStrategy) string {
	if ws == nil {
		return ""
	}
	s := ws.Fn.String()
	if ws.Trigger != nil {
		s += fmt.Sprintf(" trigger=%s", strings.TrimPrefix(reflect.TypeOf(ws.Trigger).String(), "*"))
	}
	if ws.AccumulationMode != "" {
		s += fmt.Sprintf(" %s", ws.AccumulationMode)
	}
	if ws.AllowedLateness != 0 {
		s += fmt.Sprintf(" lateness=%dms", ws.AllowedLateness)
	}
	return s
}

// FullTypeString renders a Beam full type like typex does ("KV<string,int>"), but with
// package-qualified concrete types.
func FullTypeString(ft typex.FullType) string {
	if ft == nil {
		return "<nil>"
	}
	switch ft.Class() {
	case typex.Concrete:
		return TypeString(ft.Type())
	case typex.Universal:
		return ft.Type().Name()
	case typex.Container:
		return "[]" + FullTypeString(ft.Components()[0])
	case typex.Composite:
		var args []string
		for _, c := range ft.Components() {
			args = append(args, FullTypeString(c))
		}
		name := ft.Type().Name()
		switch ft.Type() {
		case typex.WindowedValueType:
			name = "W"
		case typex.KVType:
			name = "KV"
		case typex.CoGBKType:
			name = "CoGBK"
		}
		return name + "<" + strings.Join(args, ",") + ">"
	}
	return fmt.Sprint(ft)
}

// TypeString renders t with full package paths ("github.com/x/y.T", "*main.fn",
// "func(string, func(string))"), so that the facts name types unambiguously.
func TypeString(t reflect.Type) string {
	if t == nil {
		return "<nil>"
	}
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return t.Name() // predeclared: int, string, error
		}
		return t.PkgPath() + "." + t.Name()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + TypeString(t.Elem())
	case reflect.Slice:
		return "[]" + TypeString(t.Elem())
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), TypeString(t.Elem()))
	case reflect.Map:
		return "map[" + TypeString(t.Key()) + "]" + TypeString(t.Elem())
	case reflect.Chan:
		switch t.ChanDir() {
		case reflect.RecvDir:
			return "<-chan " + TypeString(t.Elem())
		case reflect.SendDir:
			return "chan<- " + TypeString(t.Elem())
		}
		return "chan " + TypeString(t.Elem())
	case reflect.Func:
		var in, out []string
		for i := range t.NumIn() {
			s := TypeString(t.In(i))
			if t.IsVariadic() && i == t.NumIn()-1 {
				s = "..." + strings.TrimPrefix(s, "[]")
			}
			in = append(in, s)
		}
		for i := range t.NumOut() {
			out = append(out, TypeString(t.Out(i)))
		}
		s := "func(" + strings.Join(in, ", ") + ")"
		switch len(out) {
		case 0:
		case 1:
			s += " " + out[0]
		default:
			s += " (" + strings.Join(out, ", ") + ")"
		}
		return s
	}
	return t.String() // struct and interface literals
}
