package window

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	bwindow "github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/sluice-runner/sluice/runner/wire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

func iw(s, e int64) wire.IntervalWindow { return wire.IntervalWindow{Start: s, End: e} }

func TestConstantsMatchMtime(t *testing.T) {
	if MinTimestamp != int64(mtime.MinTimestamp) || MaxTimestamp != int64(mtime.MaxTimestamp) ||
		EndOfGlobalWindowTime != int64(mtime.EndOfGlobalWindowTime) ||
		GlobalWindowMaxTimestamp != int64(bwindow.GlobalWindow{}.MaxTimestamp()) {
		t.Error("time constants differ from the Go SDK's")
	}
}

func TestMergeSessions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     []wire.IntervalWindow
		merged []wire.IntervalWindow
		assign []int
	}{
		{"empty", nil, nil, nil},
		{"single", []wire.IntervalWindow{iw(0, 10)}, []wire.IntervalWindow{iw(0, 10)}, []int{0}},
		{"overlap", []wire.IntervalWindow{iw(0, 10), iw(5, 15)}, []wire.IntervalWindow{iw(0, 15)}, []int{0, 0}},
		{"touching stay apart", []wire.IntervalWindow{iw(0, 10), iw(10, 20)}, []wire.IntervalWindow{iw(0, 10), iw(10, 20)}, []int{0, 1}},
		{"disjoint unsorted", []wire.IntervalWindow{iw(30, 40), iw(0, 10)}, []wire.IntervalWindow{iw(0, 10), iw(30, 40)}, []int{1, 0}},
		{"transitive chain", []wire.IntervalWindow{iw(0, 10), iw(8, 18), iw(16, 26), iw(40, 50)},
			[]wire.IntervalWindow{iw(0, 26), iw(40, 50)}, []int{0, 0, 0, 1}},
		{"chain unsorted", []wire.IntervalWindow{iw(16, 26), iw(40, 50), iw(0, 10), iw(8, 18)},
			[]wire.IntervalWindow{iw(0, 26), iw(40, 50)}, []int{0, 1, 0, 0}},
		{"bridge joins two groups", []wire.IntervalWindow{iw(0, 10), iw(20, 30), iw(9, 21)},
			[]wire.IntervalWindow{iw(0, 30)}, []int{0, 0, 0}},
		{"contained", []wire.IntervalWindow{iw(0, 100), iw(10, 20), iw(50, 60)}, []wire.IntervalWindow{iw(0, 100)}, []int{0, 0, 0}},
		{"duplicates", []wire.IntervalWindow{iw(5, 15), iw(5, 15), iw(-20, -10)},
			[]wire.IntervalWindow{iw(-20, -10), iw(5, 15)}, []int{1, 1, 0}},
		{"negative times", []wire.IntervalWindow{iw(-30, -20), iw(-25, -5), iw(-5, 5)},
			[]wire.IntervalWindow{iw(-30, -5), iw(-5, 5)}, []int{0, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]wire.IntervalWindow(nil), tc.in...)
			merged, assign := MergeSessions(tc.in)
			if !reflect.DeepEqual(merged, tc.merged) || !reflect.DeepEqual(assign, tc.assign) {
				t.Errorf("MergeSessions(%v) = %v, %v; want %v, %v", tc.in, merged, assign, tc.merged, tc.assign)
			}
			if !reflect.DeepEqual(in, tc.in) {
				t.Error("input modified")
			}
			for i, a := range assign {
				m := merged[a]
				if tc.in[i].Start < m.Start || tc.in[i].End > m.End {
					t.Errorf("window %v assigned to %v which does not contain it", tc.in[i], m)
				}
			}
		})
	}
}

func TestSessionWindow(t *testing.T) {
	if got := SessionWindow(100, 30); got != iw(100, 130) {
		t.Errorf("SessionWindow = %v", got)
	}
	if got := SessionWindow(MaxTimestamp-1, 1<<40); got.End != MaxTimestamp {
		t.Errorf("SessionWindow near end of time = %v", got)
	}
}

func TestOutputTimestamp(t *testing.T) {
	w := wire.IntervalWindow{Start: 0, End: 100}
	ts := []int64{50, 10, 70}
	for _, tc := range []struct {
		mode pipepb.OutputTime_Enum
		want int64
	}{
		{pipepb.OutputTime_END_OF_WINDOW, 99},
		{pipepb.OutputTime_UNSPECIFIED, 99},
		{pipepb.OutputTime_EARLIEST_IN_PANE, 10},
		{pipepb.OutputTime_LATEST_IN_PANE, 70},
	} {
		s := Strategy{OutputTime: tc.mode}
		if got := OutputTimestamp(s, w, ts...); got != tc.want {
			t.Errorf("%v: OutputTimestamp = %d, want %d", tc.mode, got, tc.want)
		}
		if got := OutputTimestamp(s, w); got != 99 {
			t.Errorf("%v: OutputTimestamp with no elements = %d", tc.mode, got)
		}
		acc := ts[0]
		for _, x := range ts[1:] {
			acc = CombineOutputTime(tc.mode, acc, x)
		}
		if tc.mode != pipepb.OutputTime_END_OF_WINDOW && tc.mode != pipepb.OutputTime_UNSPECIFIED && acc != tc.want {
			t.Errorf("%v: CombineOutputTime = %d", tc.mode, acc)
		}
	}
	if got := OutputTimestamp(Strategy{}, wire.GlobalWindow{}, 5); got != EndOfGlobalWindowTime {
		t.Errorf("global window output time = %d", got)
	}
}

func TestGarbageCollectionTime(t *testing.T) {
	s := Strategy{AllowedLateness: 1000}
	if got := GarbageCollectionTime(s, iw(0, 100)); got != 1099 {
		t.Errorf("GC time = %d", got)
	}
	if got := GarbageCollectionTime(s, wire.GlobalWindow{}); got != EndOfGlobalWindowTime {
		t.Errorf("global GC time = %d", got)
	}
	if got := GarbageCollectionTime(Strategy{AllowedLateness: 1 << 62}, iw(0, 100)); got != EndOfGlobalWindowTime {
		t.Errorf("huge lateness GC time = %d", got)
	}
	if Expired(s, iw(0, 100), 1099) || !Expired(s, iw(0, 100), 1100) {
		t.Error("Expired boundary wrong")
	}
}

// strategiesFromSDK builds a pipeline per window fn (WindowInto + GBK) and
// returns the windowing strategy of the GBK output.
func strategyFromSDK(t *testing.T, fn *bwindow.Fn, opts ...beam.WindowIntoOption) (*pipepb.WindowingStrategy, *pipepb.Components) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	kvs := beam.ParDo(s, func(_ []byte, emit func(string, int64)) {}, beam.Impulse(s))
	grouped := beam.GroupByKey(s, beam.WindowInto(s, fn, kvs, opts...))
	beam.ParDo0(s, func(string, func(*int64) bool) {}, grouped)
	edges, _, err := p.Build()
	if err != nil {
		t.Fatal(err)
	}
	pb, err := graphx.Marshal(edges, &graphx.Options{Environment: &pipepb.Environment{Urn: "beam:env:docker:v1"}})
	if err != nil {
		t.Fatal(err)
	}
	comps := pb.GetComponents()
	for _, tr := range comps.GetTransforms() {
		if tr.GetSpec().GetUrn() != "beam:transform:group_by_key:v1" {
			continue
		}
		for _, out := range tr.GetOutputs() {
			return comps.GetWindowingStrategies()[comps.GetPcollections()[out].GetWindowingStrategyId()], comps
		}
	}
	t.Fatal("no GBK in pipeline")
	return nil, nil
}

func TestStrategyFromSDKPipelines(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   *bwindow.Fn
		opts []beam.WindowIntoOption
		want Strategy
	}{
		{"global", bwindow.NewGlobalWindows(), nil, Strategy{Kind: KindGlobal}},
		{"fixed", bwindow.NewFixedWindows(time.Minute), nil, Strategy{Kind: KindFixed, Size: 60000}},
		{"sliding", bwindow.NewSlidingWindows(10*time.Second, time.Minute), nil, Strategy{Kind: KindSliding, Size: 60000, Period: 10000}},
		{"sessions", bwindow.NewSessions(30 * time.Second), []beam.WindowIntoOption{beam.AllowedLateness(2 * time.Second)},
			Strategy{Kind: KindSessions, SessionGap: 30000, Merging: true, AllowedLateness: 2000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, comps := strategyFromSDK(t, tc.fn, tc.opts...)
			got, err := StrategyFromProto(ws)
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tc.want.Kind || got.Size != tc.want.Size || got.Period != tc.want.Period ||
				got.SessionGap != tc.want.SessionGap || got.Merging != tc.want.Merging || got.AllowedLateness != tc.want.AllowedLateness {
				t.Errorf("StrategyFromProto = %+v, want %+v", got, tc.want)
			}
			if got.OutputTime != pipepb.OutputTime_END_OF_WINDOW || got.Trigger == nil || got.WindowFnURN != ws.GetWindowFn().GetUrn() {
				t.Errorf("StrategyFromProto = %+v", got)
			}
			wantCoder := wire.URNIntervalWindow
			if tc.want.Kind == KindGlobal {
				wantCoder = wire.URNGlobalWindow
			}
			if u := comps.GetCoders()[got.WindowCoderID].GetSpec().GetUrn(); u != wantCoder {
				t.Errorf("window coder %q has URN %s, want %s", got.WindowCoderID, u, wantCoder)
			}
		})
	}
}

func TestStrategyErrors(t *testing.T) {
	if _, err := StrategyFromProto(nil); err == nil {
		t.Error("nil strategy: no error")
	}
	custom := &pipepb.WindowingStrategy{WindowFn: &pipepb.FunctionSpec{Urn: "beam:window_fn:my_custom:v1"}, MergeStatus: pipepb.MergeStatus_NEEDS_MERGE}
	if _, err := StrategyFromProto(custom); !errors.Is(err, ErrCustomMerging) {
		t.Errorf("custom merging: %v", err)
	}
	custom.MergeStatus = pipepb.MergeStatus_NON_MERGING
	if s, err := StrategyFromProto(custom); err != nil || s.Kind != KindCustom || s.Merging {
		t.Errorf("custom non-merging = %+v, %v", s, err)
	}
	if _, err := AssignWindows(nil, Strategy{Kind: KindCustom}, 0); err == nil {
		t.Error("AssignWindows of custom fn: no error")
	}
	bad := &pipepb.WindowingStrategy{WindowFn: &pipepb.FunctionSpec{Urn: URNFixedWindows, Payload: []byte{0xff}}}
	if _, err := StrategyFromProto(bad); err == nil {
		t.Error("bad payload: no error")
	}
	zero, _ := proto.Marshal(&pipepb.SessionWindowsPayload{GapSize: durationpb.New(0)})
	if _, err := StrategyFromProto(&pipepb.WindowingStrategy{WindowFn: &pipepb.FunctionSpec{Urn: URNSessionWindows, Payload: zero}}); err == nil {
		t.Error("zero gap: no error")
	}
}

func TestAssignWindows(t *testing.T) {
	fixed := Strategy{Kind: KindFixed, Size: 10}
	for _, tc := range []struct {
		s    Strategy
		ts   int64
		want []wire.Window
	}{
		{fixed, 0, []wire.Window{iw(0, 10)}},
		{fixed, 9, []wire.Window{iw(0, 10)}},
		{fixed, -1, []wire.Window{iw(-10, 0)}},
		{fixed, -15, []wire.Window{iw(-20, -10)}},
		{Strategy{Kind: KindFixed, Size: 10, Offset: 3}, 2, []wire.Window{iw(-7, 3)}},
		{fixed, EndOfGlobalWindowTime, []wire.Window{iw(EndOfGlobalWindowTime-EndOfGlobalWindowTime%10, EndOfGlobalWindowTime+1)}},
		{Strategy{Kind: KindSliding, Size: 30, Period: 10}, 25, []wire.Window{iw(20, 50), iw(10, 40), iw(0, 30)}},
		{Strategy{Kind: KindSliding, Size: 30, Period: 10}, -5, []wire.Window{iw(-10, 20), iw(-20, 10), iw(-30, 0)}},
		{Strategy{Kind: KindSessions, SessionGap: 5}, 7, []wire.Window{iw(7, 12)}},
		{Strategy{Kind: KindGlobal}, 7, []wire.Window{wire.GlobalWindow{}}},
	} {
		got, err := AssignWindows(nil, tc.s, tc.ts)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("AssignWindows(%v, %d) = %v, %v; want %v", tc.s.Kind, tc.ts, got, err, tc.want)
		}
	}
}
