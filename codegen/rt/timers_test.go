package rt

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"

	"github.com/sluice-runner/sluice/runner/wire"
)

// timerCoder is the families' timer coder: string keys, interval windows.
var timerCoder = coder.NewT(coder.NewString(), coder.NewIntervalWindow())

func newTestTimers() *UserTimers {
	fam := func(d timers.TimeDomain) *timerFamily {
		return &timerFamily{domain: d,
			keyEnc: exec.MakeElementEncoder(timerCoder.Components[0]), keyDec: exec.MakeElementDecoder(timerCoder.Components[0]),
			winEnc: exec.MakeWindowEncoder(timerCoder.Window), winDec: exec.MakeWindowDecoder(timerCoder.Window)}
	}
	return &UserTimers{transform: "t1", ids: []string{"again", "flush", "proc"}, families: map[string]*timerFamily{
		"flush": fam(timers.EventTimeDomain), "again": fam(timers.EventTimeDomain), "proc": fam(timers.ProcessingTimeDomain),
	}}
}

func at(ms int64) time.Time { return mtime.Time(ms).ToTime() }

// sdkTimers decodes a family's flushed timers with the SDK's own timer coder.
func sdkTimers(t *testing.T, data []byte) []exec.TimerRecv {
	t.Helper()
	dec := exec.MakeElementDecoder(timerCoder)
	var out []exec.TimerRecv
	for r := bytes.NewReader(data); r.Len() > 0; {
		fv, err := dec.Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fv.Elm.(exec.TimerRecv))
	}
	return out
}

// The timers a bundle sets go out per family, the last set of each key, window, family
// and tag winning, one per window of the call, as the SDK's timer coder reads them.
func TestTimersFlush(t *testing.T) {
	b := newTestTimers().Bundle()
	w1, w2 := wire.IntervalWindow{Start: 0, End: 10}, wire.IntervalWindow{Start: 10, End: 20}
	pane := wire.PaneInfo{Timing: wire.PaneOnTime, IsFirst: true, Index: 1}
	b.SetCurrentKey("k")
	p := b.Provider(Header{Windows: IntervalWindows(w1, w2), Pane: pane})
	flush, again := timers.InEventTime("flush"), timers.InEventTime("again")
	flush.Set(p, at(5))
	flush.Set(p, at(9)) // wins
	again.Set(p, at(7), timers.WithTag("x"))
	again.ClearTag(p, "x") // wins: a clear goes out
	b.SetCurrentKey("j")
	flush.Set(b.Provider(Header{Windows: IntervalWindows(w1)}), at(3), timers.WithOutputTimestamp(at(2)))
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	out, err := b.Flush()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || out[0].Family != "again" || out[1].Family != "flush" || out[2].Family != "proc" || len(out[2].Data) != 0 || out[0].TransformID != "t1" {
		t.Fatalf("Flush = %+v, want again, flush and an empty proc of t1", out)
	}
	var got []string
	for _, tr := range sdkTimers(t, out[1].Data) {
		got = append(got, fmt.Sprintf("%v %v %v %v %d %d %v", tr.Key.Elm, tr.Tag, tr.Windows, tr.Clear, tr.FireTimestamp, tr.HoldTimestamp, tr.Pane))
	}
	slices.Sort(got)
	sdkPane := typex.PaneInfo{Timing: typex.PaneOnTime, IsFirst: true, Index: 1}
	want := []string{
		fmt.Sprintf("j  [[0:10)] false 3 2 %v", typex.PaneInfo{Timing: typex.PaneEarly}),
		fmt.Sprintf("k  [[0:10)] false 9 9 %v", sdkPane),
		fmt.Sprintf("k  [[10:20)] false 9 9 %v", sdkPane),
	}
	if !slices.Equal(got, want) {
		t.Errorf("flush timers\n%q\nwant\n%q", got, want)
	}
	cleared := sdkTimers(t, out[0].Data)
	if len(cleared) != 2 || !cleared[0].Clear || cleared[0].Tag != "x" {
		t.Errorf("again timers %+v, want two clears of tag x", cleared)
	}
	if out, _ := b.Flush(); len(out[1].Data) != 0 {
		t.Error("a second Flush sent the timers again")
	}
}

// encodeRunnerTimers encodes timers as the runner sends them, with the SDK's coder.
func encodeRunnerTimers(t *testing.T, trs ...exec.TimerRecv) []byte {
	t.Helper()
	enc := exec.MakeElementEncoder(timerCoder)
	var buf bytes.Buffer
	for _, tr := range trs {
		if err := enc.Encode(&exec.FullValue{Elm: tr}, &buf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func runnerTimer(key, tag string, w window.IntervalWindow, fire int64) exec.TimerRecv {
	return exec.TimerRecv{Key: &exec.FullValue{Elm: key}, Windows: []typex.Window{w}, Pane: typex.NoFiringPane(),
		TimerMap: timers.TimerMap{Tag: tag, FireTimestamp: mtime.Time(fire), HoldTimestamp: mtime.Time(fire)}}
}

// Fired timers run in the runner's order; a timer the bundle set for the same key and
// window that fires no later runs first (under the family being fired, as in the SDK),
// once; a runner's timer the bundle reset does not run.
func TestTimersProcess(t *testing.T) {
	b := newTestTimers().Bundle()
	w := window.IntervalWindow{Start: 0, End: 100}
	ws := IntervalWindows(wire.IntervalWindow{Start: 0, End: 100})
	var fired []string
	fire := func(ft FiredTimer) error {
		fired = append(fired, fmt.Sprintf("%v %s/%s@%d", ft.Key, ft.Family, ft.Tag, ft.Header.Timestamp))
		if ft.Header.Windows != ws || ft.Header.Pane != wire.PaneNoFiring {
			t.Errorf("fired with header %+v", ft.Header)
		}
		if ft.Key == "k" && ft.Family == "flush" && ft.Tag == "" {
			// Set from OnTimer: an earlier again for k, and a later flush of reset.
			p := b.Provider(ft.ProviderHeader)
			timers.InEventTime("again").Set(p, at(20), timers.WithTag("a"))
			timers.InEventTime("flush").Set(p, at(90), timers.WithTag("reset"))
		}
		return nil
	}
	data := encodeRunnerTimers(t,
		runnerTimer("k", "", w, 10),
		runnerTimer("k", "second", w, 30),
		runnerTimer("j", "", w, 40),
		runnerTimer("k", "reset", w, 50),
	)
	if err := b.ProcessTimers("flush", data, fire); err != nil {
		t.Fatal(err)
	}
	want := []string{"k flush/@10", "k flush/a@20", "k flush/second@30", "j flush/@40"}
	if !slices.Equal(fired, want) {
		t.Errorf("fired %q, want %q", fired, want)
	}
	out, err := b.Flush()
	if err != nil {
		t.Fatal(err)
	}
	// What goes back: again/a cleared (it fired inline), flush/reset at 90.
	var got []string
	for _, o := range out {
		for _, tr := range sdkTimers(t, o.Data) {
			got = append(got, fmt.Sprintf("%s %v/%s clear=%v @%d", o.Family, tr.Key.Elm, tr.Tag, tr.Clear, tr.FireTimestamp))
		}
	}
	slices.Sort(got)
	if wantOut := []string{"again k/a clear=true @0", "flush k/reset clear=false @90"}; !slices.Equal(got, wantOut) {
		t.Errorf("timers set %q, want %q", got, wantOut)
	}
	if err := b.ProcessTimers("nope", data, fire); err == nil {
		t.Error("timers of an undeclared family fired")
	}
}

// Processing-time timers keep their own order: a processing-time timer set in the bundle
// does not fire inline before an event-time timer of the runner's, and the other way
// round.
func TestTimersProcessDomains(t *testing.T) {
	b := newTestTimers().Bundle()
	w := window.IntervalWindow{Start: 0, End: 100}
	var fired []string
	fire := func(ft FiredTimer) error {
		fired = append(fired, fmt.Sprintf("%s/%s@%d", ft.Family, ft.Tag, ft.Header.Timestamp))
		return nil
	}
	b.SetCurrentKey("k")
	p := b.Provider(Header{Windows: IntervalWindows(wire.IntervalWindow{Start: 0, End: 100})})
	timers.InProcessingTime("proc").Set(p, at(5), timers.WithTag("p"))
	timers.InEventTime("again").Set(p, at(5), timers.WithTag("e"))
	if err := b.ProcessTimers("proc", encodeRunnerTimers(t, runnerTimer("k", "q", w, 10)), fire); err != nil {
		t.Fatal(err)
	}
	if want := []string{"proc/p@5", "proc/q@10"}; !slices.Equal(fired, want) {
		t.Errorf("fired %q, want %q (the event-time timer not among them)", fired, want)
	}
}
