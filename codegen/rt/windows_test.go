package rt

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"

	"github.com/sluice-runner/sluice/runner/wire"
)

// sdkWindows encodes ws as the SDK's interval window coder writes an element's windows.
func sdkWindows(t *testing.T, ws []typex.Window) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := exec.MakeWindowEncoder(coder.NewIntervalWindow()).Encode(ws, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// captured is an exec.Node that keeps the windows of what it is given.
type captured struct{ windows [][]typex.Window }

func (c *captured) ID() exec.UnitID                                             { return 1 }
func (c *captured) Up(context.Context) error                                    { return nil }
func (c *captured) StartBundle(context.Context, string, exec.DataContext) error { return nil }
func (c *captured) FinishBundle(context.Context) error                          { return nil }
func (c *captured) Down(context.Context) error                                  { return nil }
func (c *captured) ProcessElement(_ context.Context, fv *exec.FullValue, _ ...exec.ReStream) error {
	c.windows = append(c.windows, fv.Windows)
	return nil
}

// sdkAssign runs the SDK's own WindowInto node on an element at ts.
func sdkAssign(t *testing.T, fn *window.Fn, ts int64) []typex.Window {
	t.Helper()
	out := &captured{}
	n := &exec.WindowInto{UID: 2, Fn: fn, Out: out}
	if err := n.ProcessElement(context.Background(), &exec.FullValue{Elm: "x", Timestamp: mtime.Time(ts)}); err != nil {
		t.Fatal(err)
	}
	return out.windows[0]
}

var assignTimes = []int64{
	0, 1, -1, 4, 5, 9, 10, 11, -5, -10, -11, 59_999, 60_000, 1_700_000_123_456, -1_700_000_123_456,
	wire.EndOfGlobalWindowTime - 3, wire.EndOfGlobalWindowTime, wire.MaxTimestamp - 2, wire.MaxTimestamp,
	wire.MinTimestamp, wire.MinTimestamp + 7,
}

// Window assignment is the SDK's, window for window and byte for byte, for fixed, sliding
// (periods dividing the size, not dividing it, and longer than it) and session windows,
// at times around zero, negative ones and near Beam's time bounds.
func TestAssignMatchesSDKWindowInto(t *testing.T) {
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, ts := range assignTimes {
		for _, size := range []int64{1, 5, 7, 1000, 60_000, 86_400_000} {
			want := sdkWindows(t, sdkAssign(t, window.NewFixedWindows(ms(size)), ts))
			if got := AssignFixed(ts, size); string(got) != string(want) {
				t.Errorf("fixed %d at %d: %v (%x), SDK %x", size, ts, got, got, want)
			}
		}
		for _, sp := range [][2]int64{{10, 5}, {10, 3}, {5, 10}, {7, 7}, {60_000, 10_000}, {3_600_000, 60_000}} {
			want := sdkWindows(t, sdkAssign(t, window.NewSlidingWindows(ms(sp[1]), ms(sp[0])), ts))
			if got := AssignSliding(ts, sp[0], sp[1]); string(got) != string(want) {
				t.Errorf("sliding %v at %d: %v (%x), SDK %x", sp, ts, got, got, want)
			}
		}
		for _, gap := range []int64{1, 10, 600_000} {
			want := sdkWindows(t, sdkAssign(t, window.NewSessions(ms(gap)), ts))
			if got := AssignSession(ts, gap); string(got) != string(want) {
				t.Errorf("session %d at %d: %v (%x), SDK %x", gap, ts, got, got, want)
			}
		}
	}
}

// An interval-window header decodes from what the SDK's encoder writes and appends back to
// the same bytes; its windows read back as the SDK's, one by one as the SDK explodes them.
func TestIntervalHeaderMatchesSDK(t *testing.T) {
	iw := func(s, e int64) window.IntervalWindow {
		return window.IntervalWindow{Start: mtime.Time(s), End: mtime.Time(e)}
	}
	sets := [][]typex.Window{
		{},
		{iw(0, 10)},
		{iw(-20, -10), iw(1_700_000_000_000, 1_700_000_060_000), iw(wire.MinTimestamp, wire.EndOfGlobalWindowTime+1)},
	}
	enc := exec.MakeWindowEncoder(coder.NewIntervalWindow())
	for _, ws := range sets {
		for _, p := range []typex.PaneInfo{typex.NoFiringPane(), {Timing: typex.PaneOnTime, IsFirst: true, IsLast: true, Index: 2, NonSpeculativeIndex: 1}} {
			var buf bytes.Buffer
			if err := exec.EncodeWindowedValueHeader(enc, ws, 1234, p, &buf); err != nil {
				t.Fatal(err)
			}
			want := buf.Bytes()
			h, n, err := DecodeIntervalHeader(append(slices.Clone(want), 0x42))
			if err != nil || n != len(want) || h.Timestamp != 1234 {
				t.Fatalf("decoding %x: %+v, %d, %v", want, h, n, err)
			}
			if got := AppendHeader(nil, h); !bytes.Equal(got, want) {
				t.Errorf("%v: appended %x, SDK %x", ws, got, want)
			}
			if h.Windows.Len() != len(ws) || len(h.Windows.Intervals()) != len(ws) {
				t.Errorf("%v: Len %d, Intervals %v", ws, h.Windows.Len(), h.Windows.Intervals())
			}
			if len(ws) > 0 && h.Windows.Window() != ws[0] {
				t.Errorf("%v: Window() %v", ws, h.Windows.Window())
			}
			i := 0
			for one := range h.Windows.All() {
				if want := sdkWindows(t, ws[i:i+1]); string(one) != string(want) || one.Window() != ws[i] {
					t.Errorf("%v: window %d is %x, SDK %x", ws, i, one, want)
				}
				i++
			}
			if i != len(ws) {
				t.Errorf("%v: All yielded %d windows", ws, i)
			}
		}
	}
	if got := IntervalWindows(wire.IntervalWindow{Start: 0, End: 10}); string(got) != string(sdkWindows(t, sets[1])) {
		t.Errorf("IntervalWindows: %x", got)
	}
}

// The global window stays the zero Windows, and its header is the global-window one.
func TestGlobalWindows(t *testing.T) {
	h := Header{Timestamp: 5, Pane: wire.PaneNoFiring}
	if !bytes.Equal(AppendHeader(nil, h), AppendGlobalHeader(nil, h)) {
		t.Error("AppendHeader of a global-window header is not the global one")
	}
	if h.Windows.Len() != 1 || h.Windows.Window() != (window.GlobalWindow{}) || h.Windows.Intervals() != nil {
		t.Errorf("global Windows: %d %v %v", h.Windows.Len(), h.Windows.Window(), h.Windows.Intervals())
	}
	for one := range h.Windows.All() {
		if one != GlobalWindow {
			t.Errorf("All of the global window yielded %q", one)
		}
	}
	for kind, want := range map[coder.WindowKind]bool{coder.GlobalWindow: true, coder.IntervalWindow: true, "custom": false} {
		if _, err := HeaderDecoder(&coder.WindowCoder{Kind: kind}); (err == nil) != want {
			t.Errorf("HeaderDecoder(%s): %v", kind, err)
		}
	}
}

func TestDecodeIntervalHeaderRefusesBadInput(t *testing.T) {
	ok := AppendHeader(nil, Header{Timestamp: 5, Pane: wire.PaneNoFiring, Windows: AssignFixed(5, 10)})
	negative := slices.Clone(ok)
	negative[8] = 0x80 // the window count's high byte
	for name, b := range map[string][]byte{
		"empty": nil, "short": ok[:6], "no count": ok[:10], "short window": ok[:15], "no pane": ok[:len(ok)-1], "negative count": negative,
	} {
		if _, _, err := DecodeIntervalHeader(b); !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("%s: err %v, want wire.ErrMalformed", name, err)
		}
	}
}

// A side input's window is the SDK's windowMapper's (exec/window.go): the side window fn
// assigns the main window's last timestamp and the earliest candidate is read, encoded as
// the side input state key has it.
func TestSideWindowFnMatchesSDK(t *testing.T) {
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	mains := []typex.Window{window.GlobalWindow{}}
	for _, ts := range []int64{0, 1, -1, 9, 10, 59_999, 1_700_000_123_456, -1_700_000_123_456} {
		mains = append(mains, window.IntervalWindow{Start: mtime.Time(ts - 10), End: mtime.Time(ts)}, window.IntervalWindow{Start: mtime.Time(ts), End: mtime.Time(ts + 60_000)})
	}
	fns := []struct {
		rt  SideWindowFn
		sdk *window.Fn
	}{
		{SideWindowFn{Size: 10}, window.NewFixedWindows(ms(10))},
		{SideWindowFn{Size: 60_000}, window.NewFixedWindows(ms(60_000))},
		{SideWindowFn{Size: 10, Period: 5}, window.NewSlidingWindows(ms(5), ms(10))},
		{SideWindowFn{Size: 60_000, Period: 7}, window.NewSlidingWindows(ms(7), ms(60_000))},
	}
	for _, main := range mains {
		ws := GlobalWindow
		if iw, ok := main.(window.IntervalWindow); ok {
			ws = IntervalWindows(wire.IntervalWindow{Start: int64(iw.Start), End: int64(iw.End)})
		}
		for _, fn := range fns {
			cands := sdkAssign(t, fn.sdk, int64(main.MaxTimestamp()))
			want, err := exec.EncodeWindow(exec.MakeWindowEncoder(coder.NewIntervalWindow()), cands[len(cands)-1])
			if err != nil {
				t.Fatal(err)
			}
			got, err := fn.rt.Map(ws)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%+v of main window %v: %x, %v; SDK %x", fn.rt, main, got, err, want)
			}
		}
	}
	if got, err := (SideWindowFn{}).Map(IntervalWindows(wire.IntervalWindow{Start: 0, End: 10})); err != nil || len(got) != 0 {
		t.Errorf("the global side window fn maps to %x, %v; want no bytes", got, err)
	}
	two := IntervalWindows(wire.IntervalWindow{Start: 0, End: 10}, wire.IntervalWindow{Start: 5, End: 15})
	if _, err := (SideWindowFn{Size: 10}).Map(two); err == nil {
		t.Error("mapping two main windows at once did not fail")
	}
	// Sliding windows shorter than their period leave gaps: a main window ending in one
	// maps to no side window, which the SDK's windowMapper reports as an error too.
	if w, err := (SideWindowFn{Size: 5, Period: 10}).Map(IntervalWindows(wire.IntervalWindow{Start: 0, End: 8})); err == nil {
		t.Errorf("a main window ending in a gap between side windows mapped to %x", w)
	}
}
