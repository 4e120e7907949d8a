package worker

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/runner/window"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/state"
)

// components with KV<string, string> and KV<string, iterable<string>> in interval windows.
func groupCodecs(t *testing.T) (in, out *wire.WindowedValueCodec) {
	t.Helper()
	c := func(urn string, comps ...string) *pipepb.Coder {
		return &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: urn}, ComponentCoderIds: comps}
	}
	comps := &pipepb.Components{Coders: map[string]*pipepb.Coder{
		"s":    c("beam:coder:string_utf8:v1"),
		"w":    c("beam:coder:interval_window:v1"),
		"kv":   c("beam:coder:kv:v1", "s", "s"),
		"it":   c("beam:coder:iterable:v1", "s"),
		"kvit": c("beam:coder:kv:v1", "s", "it"),
		"in":   c("beam:coder:windowed_value:v1", "kv", "w"),
		"out":  c("beam:coder:windowed_value:v1", "kvit", "w"),
	}}
	var err error
	if in, err = wire.NewWindowedValueCodec(comps, "in"); err != nil {
		t.Fatal(err)
	}
	if out, err = wire.NewWindowedValueCodec(comps, "out"); err != nil {
		t.Fatal(err)
	}
	return in, out
}

func str(s string) []byte { return wire.AppendLengthPrefixed(nil, []byte(s)) }

func kvRecord(in *wire.WindowedValueCodec, ts int64, w wire.IntervalWindow, k, v string) []byte {
	return in.Append(nil, wire.WindowedValue{Timestamp: ts, Windows: []wire.Window{w}, Pane: wire.PaneNoFiring, Element: append(str(k), str(v)...)})
}

// decodeGroup renders a fired element as "key@[start:end) ts=T: v1,v2" (inline values only)
// and returns its state token, if any.
func decodeGroup(t *testing.T, out *wire.WindowedValueCodec, rec []byte) (string, []byte) {
	t.Helper()
	wv, n, err := out.Decode(rec)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(rec) {
		t.Fatalf("a group element of %d bytes followed by %d more", n, len(rec)-n)
	}
	kv, _ := out.KV()
	key, values, err := kv.Split(wv.Element)
	if err != nil {
		t.Fatal(err)
	}
	it := kv.Value.(*wire.IterableCodec)
	var vs []string
	_, ferr := it.ForEach(values, func(v []byte) error {
		s, _, err := wire.DecodeLengthPrefixed(v)
		vs = append(vs, string(s))
		return err
	})
	tok, err := it.StateToken(values)
	if err != nil {
		t.Fatal(err)
	}
	if ferr != nil && tok == nil {
		t.Fatal(ferr)
	}
	k, _, _ := wire.DecodeLengthPrefixed(key)
	return fmt.Sprintf("%s@%v ts=%d pane=%+v: %s", k, wv.Windows[0], wv.Timestamp, wv.Pane, strings.Join(vs, ",")), tok
}

func TestGroupBufferFiresByWatermark(t *testing.T) {
	in, out := groupCodecs(t)
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore()}
	w1, w2 := wire.IntervalWindow{Start: 0, End: 10}, wire.IntervalWindow{Start: 10, End: 20}
	for _, r := range [][]byte{
		kvRecord(in, 1, w1, "a", "x"), kvRecord(in, 12, w2, "a", "y"), kvRecord(in, 5, w1, "a", "z"), kvRecord(in, 3, w1, "b", "q"),
	} {
		if err := g.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	emit := func(rec []byte, _ ...[]byte) error {
		s, _ := decodeGroup(t, out, rec)
		got = append(got, s)
		return nil
	}
	if err := g.Fire(9, emit); err != nil { // window [0,10) ends at 9: not yet
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("fired %v before the watermark passed the window", got)
	}
	if err := g.Fire(10, emit); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got) // Fire promises no order
	onTime := "{Timing:ON_TIME IsFirst:true IsLast:true Index:0 NonSpeculativeIndex:0}"
	want := []string{"a@[0:10) ts=9 pane=" + onTime + ": x,z", "b@[0:10) ts=9 pane=" + onTime + ": q"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fired %q, want %q", got, want)
	}
	if err := g.Release(); err != nil {
		t.Fatal(err)
	}
	got = nil
	if err := g.Fire(math.MaxInt64, emit); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a@[10:20) ts=19 pane=" + onTime + ": y"}; !reflect.DeepEqual(got, want) {
		t.Errorf("final firing %q, want %q", got, want)
	}
}

func TestGroupBufferMergesSessions(t *testing.T) {
	in, out := groupCodecs(t)
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(),
		Strategy: window.Strategy{Merging: true, OutputTime: pipepb.OutputTime_EARLIEST_IN_PANE}}
	sess := func(ts int64) wire.IntervalWindow { return wire.IntervalWindow{Start: ts, End: ts + 10} }
	for _, ts := range []int64{30, 1, 25, 8, 50} { // 1,8 merge; 25,30 merge; 50 alone
		if err := g.Add(kvRecord(in, ts, sess(ts), "k", fmt.Sprint(ts))); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	err := g.Fire(math.MaxInt64, func(rec []byte, _ ...[]byte) error {
		s, _ := decodeGroup(t, out, rec)
		got = append(got, s[:strings.Index(s, " pane")]+s[strings.Index(s, "}:")+1:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"k@[1:18) ts=1: 1,8", "k@[25:40) ts=25: 25,30", "k@[50:60) ts=50: 50"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sessions fired %q, want %q", got, want)
	}
}

func TestGroupBufferLargeGroupsStayInState(t *testing.T) {
	t.Run("whole", func(t *testing.T) { testLargeGroupsStayInState(t, &GroupBuffer{}) })
	// An inline part larger than a block comes in pieces, the state token the last of them.
	t.Run("pieces", func(t *testing.T) { testLargeGroupsStayInState(t, &GroupBuffer{Pieces: true, InlineLimit: 2 << 20}) })
	// A native stage's group of more than a block is all behind the token: its blocks in
	// memory first, a page each, then the values in the store.
	t.Run("parked", func(t *testing.T) {
		testLargeGroupsStayInState(t, &GroupBuffer{Pieces: true, ParkBlocks: true, InlineLimit: 2 << 20})
	})
}

func testLargeGroupsStayInState(t *testing.T, g *GroupBuffer) {
	in, out := groupCodecs(t)
	rs := &RunnerState{}
	g.InCodec, g.OutCodec, g.Store, g.Large = in, out, state.NewMemStore(), rs
	pieces := g.Pieces && !g.ParkBlocks
	w := wire.IntervalWindow{Start: 0, End: 10}
	value := strings.Repeat("v", 1000)
	n := 2000 + g.inlineLimit()/1000 // 2 MB more than the inline limit
	for i := range n {
		if err := g.Add(kvRecord(in, 1, w, "big", fmt.Sprintf("%04d%s", i, value))); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Add(kvRecord(in, 1, w, "small", "s")); err != nil {
		t.Fatal(err)
	}
	type fired struct {
		desc string
		tok  []byte
	}
	var got []fired
	if err := g.Fire(math.MaxInt64, func(rec []byte, rest ...[]byte) error {
		s, tok := decodeGroup(t, out, slices.Concat(append([][]byte{rec}, rest...)...))
		if (len(rest) > 0) != (pieces && tok != nil) {
			t.Errorf("%.8s… came in %d pieces (Pieces %v)", s, 1+len(rest), pieces)
		}
		got = append(got, fired{s, tok})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].tok != nil && got[j].tok == nil })
	if len(got) != 2 || got[0].tok == nil || got[1].tok != nil {
		t.Fatalf("want the big group state-backed and the small one inline, got %d groups", len(got))
	}
	inMemory := g.inlineLimit() / (len(value) + 6) // values before the limit
	inline := strings.Count(got[0].desc, ",") + 1
	if g.ParkBlocks {
		if !strings.HasSuffix(got[0].desc, ": ") {
			t.Fatalf("a parked group carries values: %.60q…", got[0].desc)
		}
		inline = 0
	} else if inline < inMemory-1 || inline > inMemory+1 {
		t.Fatalf("inline values = %d, want about %d of %d", inline, inMemory, n)
	}
	// The store holds the rest in blocks: its cost is per entry.
	if entries, err := g.Store.BagSize(g.fired[0]); err != nil || entries > (n-inMemory)/16 {
		t.Errorf("the store holds %d values in %d entries (%v), want blocks of many", n-inMemory, entries, err)
	}
	// The SDK pages through the rest with continuation tokens.
	var rest []string
	pages := 0
	for tok := []byte(nil); ; {
		pages++
		resp := rs.handle(&fnpb.StateKey_Runner{Key: got[0].tok}, &fnpb.StateRequest{
			Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{ContinuationToken: tok}}})
		if resp.GetError() != "" {
			t.Fatal(resp.GetError())
		}
		data := resp.GetGet().GetData()
		for len(data) > 0 {
			v, m, err := wire.DecodeLengthPrefixed(data)
			if err != nil {
				t.Fatal(err)
			}
			rest = append(rest, string(v[:4]))
			data = data[m:]
		}
		if tok = resp.GetGet().GetContinuationToken(); tok == nil {
			break
		}
	}
	if pages < 2 {
		t.Errorf("the state-backed values came in %d page(s), want several", pages)
	}
	if inline+len(rest) != n || rest[0] != fmt.Sprintf("%04d", inline) || rest[len(rest)-1] != fmt.Sprintf("%04d", n-1) {
		t.Errorf("inline %d + state %d values (first %q), want %d in order", inline, len(rest), rest[0], n)
	}
	for _, bad := range []string{"b0", "b99", "bx", "x"} {
		if resp := rs.handle(&fnpb.StateKey_Runner{Key: got[0].tok}, &fnpb.StateRequest{Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{ContinuationToken: []byte(bad)}}}); resp.GetError() == "" {
			t.Errorf("continuation token %q: no error", bad)
		}
	}
	if err := g.Release(); err != nil {
		t.Fatal(err)
	}
	if resp := rs.handle(&fnpb.StateKey_Runner{Key: got[0].tok}, &fnpb.StateRequest{Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}}); resp.GetError() == "" {
		t.Error("the token still resolves after Release")
	}
}

func TestGroupBufferLatePanesAndDroppedData(t *testing.T) {
	in, out := groupCodecs(t)
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(), Strategy: window.Strategy{AllowedLateness: 10}}
	w := wire.IntervalWindow{Start: 0, End: 10} // max timestamp 9, expires after 19
	var got []string
	fire := func(wm int64) {
		t.Helper()
		if err := g.Fire(wm, func(rec []byte, _ ...[]byte) error {
			s, _ := decodeGroup(t, out, rec)
			got = append(got, s)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	add := func(v string) {
		t.Helper()
		if err := g.Add(kvRecord(in, 5, w, "k", v)); err != nil {
			t.Fatal(err)
		}
	}
	add("x")
	fire(10) // on time; the window lives on for late data
	add("y")
	fire(15) // late, within the allowed lateness
	fire(16) // nothing new: no pane
	add("z")
	fire(20) // late again, and the window expires: the last pane
	add("dropped")
	fire(30)
	want := []string{
		"k@[0:10) ts=9 pane={Timing:ON_TIME IsFirst:true IsLast:false Index:0 NonSpeculativeIndex:0}: x",
		"k@[0:10) ts=9 pane={Timing:LATE IsFirst:false IsLast:false Index:1 NonSpeculativeIndex:1}: y",
		"k@[0:10) ts=9 pane={Timing:LATE IsFirst:false IsLast:true Index:2 NonSpeculativeIndex:2}: z",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("panes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if g.Dropped != 1 {
		t.Errorf("dropped %d elements, want 1 (the one after the window expired)", g.Dropped)
	}
}

func TestGroupBufferTriggerAlwaysFiresEachElement(t *testing.T) {
	in, out := groupCodecs(t)
	always := &pipepb.Trigger{Trigger: &pipepb.Trigger_Always_{Always: &pipepb.Trigger_Always{}}}
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(), Strategy: window.Strategy{Trigger: always}}
	w := wire.IntervalWindow{Start: 0, End: 10}
	var got []string
	emit := func(rec []byte, _ ...[]byte) error {
		s, _ := decodeGroup(t, out, rec)
		got = append(got, s)
		return nil
	}
	for _, v := range []string{"x", "y"} {
		if err := g.Add(kvRecord(in, 5, w, "k", v)); err != nil {
			t.Fatal(err)
		}
		if !g.Ready() {
			t.Fatal("Ready is false after an element under trigger Always")
		}
		if err := g.Fire(g.Watermark(), emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Fire(10, emit); err != nil { // nothing pending at the end of the window: no pane
		t.Fatal(err)
	}
	want := []string{
		"k@[0:10) ts=9 pane={Timing:EARLY IsFirst:true IsLast:false Index:0 NonSpeculativeIndex:-1}: x",
		"k@[0:10) ts=9 pane={Timing:EARLY IsFirst:false IsLast:false Index:1 NonSpeculativeIndex:-1}: y",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("panes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// groupPanes runs one GroupBuffer script: each step adds values (at timestamp 5, window
// [0,10), key k) or moves the watermark or the virtual clock, and the panes are collected.
type groupStep struct {
	add []string
	wm  int64 // Fire at wm when > 0
	pt  int64 // AdvanceProcessingTime when > 0
}

// Trigger protos for the tests.
func afterCount(n int32) *pipepb.Trigger {
	return &pipepb.Trigger{Trigger: &pipepb.Trigger_ElementCount_{ElementCount: &pipepb.Trigger_ElementCount{ElementCount: n}}}
}

func repeatedly(t *pipepb.Trigger) *pipepb.Trigger {
	return &pipepb.Trigger{Trigger: &pipepb.Trigger_Repeat_{Repeat: &pipepb.Trigger_Repeat{Subtrigger: t}}}
}

func afterEndOfWindow(early, late *pipepb.Trigger) *pipepb.Trigger {
	return &pipepb.Trigger{Trigger: &pipepb.Trigger_AfterEndOfWindow_{AfterEndOfWindow: &pipepb.Trigger_AfterEndOfWindow{EarlyFirings: early, LateFirings: late}}}
}

// samePanes fails t unless got lists the panes of want, in order.
func samePanes(t *testing.T, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("panes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func groupPanes(t *testing.T, g *GroupBuffer, steps []groupStep) []string {
	t.Helper()
	in, out := g.InCodec, g.OutCodec
	w := wire.IntervalWindow{Start: 0, End: 10}
	var got []string
	emit := func(rec []byte, _ ...[]byte) error {
		s, _ := decodeGroup(t, out, rec)
		got = append(got, s)
		return nil
	}
	for _, st := range steps {
		for _, v := range st.add {
			if err := g.Add(kvRecord(in, 5, w, "k", v)); err != nil {
				t.Fatal(err)
			}
			if g.Ready() {
				if err := g.Fire(g.Watermark(), emit); err != nil {
					t.Fatal(err)
				}
			}
		}
		if st.pt > 0 {
			if err := g.AdvanceProcessingTime(st.pt, emit); err != nil {
				t.Fatal(err)
			}
		}
		if st.wm > 0 {
			if err := g.Fire(st.wm, emit); err != nil {
				t.Fatal(err)
			}
		}
	}
	return got
}

func TestGroupBufferRepeatedCountDiscardsFiredValues(t *testing.T) {
	in, out := groupCodecs(t)
	count2 := afterCount(2)
	repeat := repeatedly(count2)
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(), Strategy: window.Strategy{Trigger: repeat}}
	got := groupPanes(t, g, []groupStep{{add: []string{"a", "b", "c"}}, {wm: 5}, {add: []string{"d"}}, {wm: 20}})
	want := []string{
		"k@[0:10) ts=9 pane={Timing:EARLY IsFirst:true IsLast:false Index:0 NonSpeculativeIndex:-1}: a,b",
		"k@[0:10) ts=9 pane={Timing:EARLY IsFirst:false IsLast:false Index:1 NonSpeculativeIndex:-1}: c,d",
	}
	samePanes(t, got, want)
}

func TestGroupBufferFinishedTriggerClosesTheWindow(t *testing.T) {
	in, out := groupCodecs(t)
	count2 := afterCount(2)
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(), Strategy: window.Strategy{Trigger: count2}}
	got := groupPanes(t, g, []groupStep{{add: []string{"a", "b", "late1", "late2"}}, {wm: 20}})
	want := []string{"k@[0:10) ts=9 pane={Timing:EARLY IsFirst:true IsLast:true Index:0 NonSpeculativeIndex:-1}: a,b"}
	samePanes(t, got, want)
	if g.Dropped != 2 {
		t.Errorf("dropped %d, want the 2 elements after the trigger finished", g.Dropped)
	}
}

func TestGroupBufferAccumulatingEarlyFirings(t *testing.T) {
	in, out := groupCodecs(t)
	count1 := afterCount(1)
	eow := afterEndOfWindow(count1, nil)
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(),
		Strategy: window.Strategy{Trigger: eow, AccumulationMode: pipepb.AccumulationMode_ACCUMULATING, OnTimeBehavior: pipepb.OnTimeBehavior_FIRE_ALWAYS}}
	got := groupPanes(t, g, []groupStep{{add: []string{"a"}}, {add: []string{"b"}}, {wm: 20}})
	want := []string{
		"k@[0:10) ts=9 pane={Timing:EARLY IsFirst:true IsLast:false Index:0 NonSpeculativeIndex:-1}: a",
		"k@[0:10) ts=9 pane={Timing:EARLY IsFirst:false IsLast:false Index:1 NonSpeculativeIndex:-1}: a,b",
		"k@[0:10) ts=9 pane={Timing:ON_TIME IsFirst:false IsLast:true Index:2 NonSpeculativeIndex:0}: a,b",
	}
	samePanes(t, got, want)
}

func TestGroupBufferProcessingTimeOnTheVirtualClock(t *testing.T) {
	in, out := groupCodecs(t)
	apt := &pipepb.Trigger{Trigger: &pipepb.Trigger_AfterProcessingTime_{AfterProcessingTime: &pipepb.Trigger_AfterProcessingTime{
		TimestampTransforms: []*pipepb.TimestampTransform{{TimestampTransform: &pipepb.TimestampTransform_Delay_{Delay: &pipepb.TimestampTransform_Delay{DelayMillis: 100}}}},
	}}}
	repeat := repeatedly(apt)
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(), Strategy: window.Strategy{Trigger: repeat}, VirtualClock: true}
	got := groupPanes(t, g, []groupStep{{pt: 1000}, {add: []string{"a", "b"}}, {pt: 1099}, {pt: 1100}, {add: []string{"c"}}, {wm: 20}})
	want := []string{
		"k@[0:10) ts=9 pane={Timing:EARLY IsFirst:true IsLast:false Index:0 NonSpeculativeIndex:-1}: a,b",
		"k@[0:10) ts=9 pane={Timing:ON_TIME IsFirst:false IsLast:true Index:1 NonSpeculativeIndex:0}: c",
	}
	samePanes(t, got, want)
	if next := g.NextProcessingTime(); next != math.MaxInt64 {
		t.Errorf("NextProcessingTime = %d on a virtual clock, want none (the clock comes in band)", next)
	}
}

// With every value emitted early, the window still gets its on-time pane (empty) under
// OnTimeBehavior FIRE_ALWAYS, and late data then goes to the late firings.
func TestGroupBufferEmptyOnTimePaneThenLateFirings(t *testing.T) {
	in, out := groupCodecs(t)
	count1 := afterCount(1)
	eow := afterEndOfWindow(count1, count1)
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(),
		Strategy: window.Strategy{Trigger: eow, AllowedLateness: 20, OnTimeBehavior: pipepb.OnTimeBehavior_FIRE_ALWAYS}}
	got := groupPanes(t, g, []groupStep{{add: []string{"a"}}, {wm: 12}, {add: []string{"b"}}, {wm: 40}})
	want := []string{
		"k@[0:10) ts=9 pane={Timing:EARLY IsFirst:true IsLast:false Index:0 NonSpeculativeIndex:-1}: a",
		"k@[0:10) ts=9 pane={Timing:ON_TIME IsFirst:false IsLast:false Index:1 NonSpeculativeIndex:0}: ",
		"k@[0:10) ts=9 pane={Timing:LATE IsFirst:false IsLast:false Index:2 NonSpeculativeIndex:1}: b",
	}
	samePanes(t, got, want)
}

// Under a trigger that may fire early, sessions merge as elements arrive: the early pane of
// a session holds what merged into it so far, and a late bridge element extends it.
func TestGroupBufferMergesSessionsEagerlyUnderEarlyFirings(t *testing.T) {
	in, out := groupCodecs(t)
	count2 := afterCount(2)
	eow := afterEndOfWindow(count2, nil)
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(), Strategy: window.Strategy{Merging: true, Trigger: eow}}
	var got []string
	emit := func(rec []byte, _ ...[]byte) error {
		s, _ := decodeGroup(t, out, rec)
		got = append(got, s)
		return nil
	}
	add := func(ts int64, v string) {
		t.Helper()
		if err := g.Add(kvRecord(in, ts, wire.IntervalWindow{Start: ts, End: ts + 10}, "k", v)); err != nil {
			t.Fatal(err)
		}
		if g.Ready() {
			if err := g.Fire(g.Watermark(), emit); err != nil {
				t.Fatal(err)
			}
		}
	}
	fire := func(wm int64) {
		t.Helper()
		if err := g.Fire(wm, emit); err != nil {
			t.Fatal(err)
		}
	}
	add(1, "a")
	add(5, "b")  // merges into [1,15): two elements, the early firing
	add(30, "c") // a session of its own
	add(12, "d") // extends [1,15) to [1,22)
	fire(25)
	fire(50)
	want := []string{
		"k@[1:15) ts=14 pane={Timing:EARLY IsFirst:true IsLast:false Index:0 NonSpeculativeIndex:-1}: a,b",
		"k@[1:22) ts=21 pane={Timing:ON_TIME IsFirst:false IsLast:true Index:1 NonSpeculativeIndex:0}: d",
		"k@[30:40) ts=39 pane={Timing:ON_TIME IsFirst:true IsLast:true Index:0 NonSpeculativeIndex:0}: c",
	}
	samePanes(t, got, want)
}

// In accumulating mode a pane goes out only with new values: the window's expiry after a
// firing that emitted everything makes no pane (ClosingBehavior EMIT_IF_NONEMPTY), while
// new data since makes a last pane of everything so far.
func TestGroupBufferAccumulatingLastPaneOnlyWithNewData(t *testing.T) {
	in, out := groupCodecs(t)
	count2 := afterCount(2)
	repeat := repeatedly(count2)
	strategy := window.Strategy{Trigger: repeat, AccumulationMode: pipepb.AccumulationMode_ACCUMULATING, ClosingBehavior: pipepb.ClosingBehavior_EMIT_IF_NONEMPTY}
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(), Strategy: strategy}
	got := groupPanes(t, g, []groupStep{{add: []string{"a", "b"}}, {wm: 20}})
	want := []string{"k@[0:10) ts=9 pane={Timing:EARLY IsFirst:true IsLast:false Index:0 NonSpeculativeIndex:-1}: a,b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nothing new at expiry:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	g = &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(), Strategy: strategy}
	got = groupPanes(t, g, []groupStep{{add: []string{"a", "b", "c"}}, {wm: 20}})
	want = append(want, "k@[0:10) ts=9 pane={Timing:ON_TIME IsFirst:false IsLast:true Index:1 NonSpeculativeIndex:0}: a,b,c")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("new data at expiry:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A trigger's state is written to the group store as it changes, and goes with its window.
func TestGroupBufferKeepsTriggerStateInTheStore(t *testing.T) {
	in, out := groupCodecs(t)
	count3 := afterCount(3)
	repeat := repeatedly(count3)
	store := state.NewMemStore()
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: store, Strategy: window.Strategy{Trigger: repeat}}
	groupPanes(t, g, []groupStep{{add: []string{"a", "b"}}})
	stored := func() []string {
		var states []string
		if err := store.ScanKeys([]byte{triggerKeyPrefix}, func(k []byte) error {
			return store.ReadBag(k, func(v []byte) error {
				st, err := g.trig.DecodeState(v)
				if err != nil {
					return err
				}
				b, _ := st.AppendBinary(nil)
				states = append(states, string(b))
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		return states
	}
	var live *group
	for _, gr := range g.groups {
		live = gr
	}
	want, _ := live.trig.AppendBinary(nil)
	if got := stored(); len(got) != 1 || got[0] != string(want) {
		t.Fatalf("stored trigger states = %q, want the group's one %q", got, want)
	}
	groupPanes(t, g, []groupStep{{wm: 20}})
	if got := stored(); len(got) != 0 {
		t.Errorf("trigger states left after the window expired: %q", got)
	}
}

// A hot key's group in memory grows past one block: it comes out whole and in order, and
// the next window's group of the same key, reusing the recycled blocks, does too.
// TestGroupBufferHotKeyInMemory fires a group of several blocks, whole and (with Pieces)
// in pieces, and a small one, which comes whole either way.
func TestGroupBufferHotKeyInMemory(t *testing.T) {
	for _, pieces := range []bool{false, true} {
		t.Run(fmt.Sprintf("pieces=%v", pieces), func(t *testing.T) { testHotKeyInMemory(t, pieces) })
	}
}

func testHotKeyInMemory(t *testing.T, pieces bool) {
	in, out := groupCodecs(t)
	g := &GroupBuffer{InCodec: in, OutCodec: out, Store: state.NewMemStore(), Pieces: pieces}
	value := strings.Repeat("v", 1000)
	const n = 5000 // ~5 MB: several blocks
	for round, w := range []wire.IntervalWindow{{Start: 0, End: 10}, {Start: 10, End: 20}} {
		for i := range n {
			if err := g.Add(kvRecord(in, w.Start, w, "hot", fmt.Sprintf("%d-%04d%s", round, i, value))); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.Add(kvRecord(in, w.Start, w, "cold", "c")); err != nil {
			t.Fatal(err)
		}
		var hot []string
		groups := 0
		if err := g.Fire(w.MaxTimestamp()+1, func(rec []byte, rest ...[]byte) error {
			groups++
			desc, tok := decodeGroup(t, out, slices.Concat(append([][]byte{rec}, rest...)...))
			if tok != nil {
				t.Fatal("a state token without Large")
			}
			isHot := strings.HasPrefix(desc, "hot@")
			if inPieces := len(rest) > 0; inPieces != (pieces && isHot) {
				t.Errorf("round %d: %.8s… came in %d pieces (Pieces %v)", round, desc, 1+len(rest), pieces)
			}
			if isHot {
				hot = strings.Split(desc[strings.Index(desc, ": ")+2:], ",")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if groups != 2 || len(hot) != n {
			t.Fatalf("round %d: %d groups, hot one of %d values; want 2 and %d", round, groups, len(hot), n)
		}
		for i, v := range hot {
			if want := fmt.Sprintf("%d-%04d%s", round, i, value); v != want {
				t.Fatalf("round %d: value %d = %.12q…, want %.12q…", round, i, v, want)
			}
		}
	}
}
