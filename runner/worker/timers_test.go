package worker

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/cockroachdb/datadriven"

	"github.com/sluice-runner/sluice/fnharness"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/state"
)

// TestTimerSetScripts runs testdata/timers*.txt against a TimerSet with an event-time
// family "ev" and a processing-time family "pt" (string keys, interval windows).
// Regenerate with go test ./runner/worker -run TestTimerSetScripts -rewrite.
//
// Directives:
//
//	apply          one timer per input line, as the SDK would send it:
//	                 set FAMILY KEY START-END TAG FIRE HOLD | clear FAMILY KEY START-END TAG
//	               (TAG "-" is the empty tag; several windows as START-END,START-END)
//	due DOMAIN NOW takes and prints the due timers of domain event|processing at NOW
//	               (NOW "inf": end of input)
//	show           prints the pending count, the hold and the next fire time per domain,
//	               and the number of timers in the store
func TestTimerSetScripts(t *testing.T) {
	codec := timerCodec(t, "beam:coder:interval_window:v1")
	refs := map[string]fnharness.TimerFamilyRef{
		"ev": {TransformID: "pardo", Family: "ev"},
		"pt": {TransformID: "pardo", Family: "pt"},
	}
	families := []TimerFamily{
		{TimerFamilyRef: refs["ev"], Domain: pipepb.TimeDomain_EVENT_TIME, Codec: codec},
		{TimerFamilyRef: refs["pt"], Domain: pipepb.TimeDomain_PROCESSING_TIME, Codec: codec},
	}
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if !strings.Contains(path, "timers") {
			return
		}
		store := state.NewMemStore()
		set := NewTimerSet(families, store, 128)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "apply":
				for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
					f := strings.Fields(line)
					if len(f) < 5 {
						d.Fatalf(t, "bad line %q", line)
					}
					tm := wire.Timer{Key: wire.AppendLengthPrefixed(nil, []byte(f[2])), Tag: []byte(strings.Trim(f[4], "-")), Clear: f[0] == "clear"}
					for _, w := range strings.Split(f[3], ",") {
						var s, e int64
						if _, err := fmt.Sscanf(w, "%d-%d", &s, &e); err != nil {
							d.Fatalf(t, "bad window %q", w)
						}
						tm.Windows = append(tm.Windows, wire.IntervalWindow{Start: s, End: e})
					}
					if !tm.Clear {
						tm.Fire, tm.Hold = atoi(t, d, f[5]), atoi(t, d, f[6])
					}
					if err := set.Apply(refs[f[1]], codec.Append(nil, tm)); err != nil {
						return "error: " + err.Error()
					}
				}
				return "ok"
			case "due":
				domain := pipepb.TimeDomain_EVENT_TIME
				if d.CmdArgs[0].Key == "processing" {
					domain = pipepb.TimeDomain_PROCESSING_TIME
				}
				now := int64(1<<63 - 1)
				if d.CmdArgs[1].Key != "inf" {
					now = atoi(t, d, d.CmdArgs[1].Key)
				}
				fired, err := set.TakeDue(domain, now)
				if err != nil {
					return "error: " + err.Error()
				}
				var b strings.Builder
				for _, ft := range fired {
					var tm wire.Timer
					if _, err := codec.Decode(ft.Encoded, &tm); err != nil {
						d.Fatalf(t, "%v", err)
					}
					key, _, _ := wire.DecodeLengthPrefixed(tm.Key)
					w := tm.Windows[0].(wire.IntervalWindow)
					fmt.Fprintf(&b, "%s %s %d-%d %q fire=%d hold=%d\n", ft.Family.Family, key, w.Start, w.End, tm.Tag, tm.Fire, tm.Hold)
				}
				if b.Len() == 0 {
					return "none"
				}
				return b.String()
			case "show":
				stored := 0
				if err := store.ScanKeys(nil, func([]byte) error { stored++; return nil }); err != nil {
					d.Fatalf(t, "%v", err)
				}
				return fmt.Sprintf("pending=%d stored=%d hold=%s next-event=%s next-processing=%s",
					set.Len(), stored, ts(set.Hold()), ts(set.Next(pipepb.TimeDomain_EVENT_TIME)), ts(set.Next(pipepb.TimeDomain_PROCESSING_TIME)))
			default:
				d.Fatalf(t, "unknown directive %q", d.Cmd)
				return ""
			}
		})
	})
}

// timerCodec is the codec of timers with string keys in windows of windowURN.
func timerCodec(tb testing.TB, windowURN string) *wire.TimerCodec {
	tb.Helper()
	comps := &pipepb.Components{Coders: map[string]*pipepb.Coder{
		"s":     {Spec: &pipepb.FunctionSpec{Urn: "beam:coder:string_utf8:v1"}},
		"w":     {Spec: &pipepb.FunctionSpec{Urn: windowURN}},
		"timer": {Spec: &pipepb.FunctionSpec{Urn: "beam:coder:timer:v1"}, ComponentCoderIds: []string{"s", "w"}},
	}}
	c, err := wire.NewCodec(comps, "timer")
	if err != nil {
		tb.Fatal(err)
	}
	return c.(*wire.TimerCodec)
}

func atoi(t *testing.T, d *datadriven.TestData, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		d.Fatalf(t, "bad number %q", s)
	}
	return n
}

func ts(v int64) string {
	if v == 1<<63-1 {
		return "none"
	}
	return strconv.FormatInt(v, 10)
}

// TestTimerSetCompactsReSetTimers re-sets one timer many times: the stale heap entries are
// dropped, so memory stays bounded by the pending timers.
func TestTimerSetCompactsReSetTimers(t *testing.T) {
	codec := timerCodec(t, "beam:coder:global_window:v1")
	ref := fnharness.TimerFamilyRef{TransformID: "pardo", Family: "ev"}
	set := NewTimerSet([]TimerFamily{{TimerFamilyRef: ref, Domain: pipepb.TimeDomain_EVENT_TIME, Codec: codec}}, state.NewMemStore(), 128)
	for i := range 10_000 {
		tm := wire.Timer{Key: wire.AppendLengthPrefixed(nil, []byte("k")), Windows: []wire.Window{wire.GlobalWindow{}}, Fire: int64(10_000 - i), Hold: int64(10_000 - i)}
		if err := set.Apply(ref, codec.Append(nil, tm)); err != nil {
			t.Fatal(err)
		}
	}
	if set.Len() != 1 || set.holds.Len() > 2*set.Len()+1025 || set.fires[0].Len() > 2*set.Len()+1025 {
		t.Fatalf("pending %d, heaps %d/%d: stale entries are not compacted", set.Len(), set.holds.Len(), set.fires[0].Len())
	}
	fired, err := set.TakeDue(pipepb.TimeDomain_EVENT_TIME, 2)
	if err != nil || len(fired) != 1 {
		t.Fatalf("TakeDue = %d timers, %v; want the last one set (fire 1)", len(fired), err)
	}
}

// BenchmarkTimerSetSetAndFire sets one event-time timer per key over keys keys (each set
// replacing the key's previous timer half the time), then fires them all by watermark; one
// op is one timer set and fired. Memory and Pebble timer stores.
//
//	go test ./runner/worker -run '^$' -bench TimerSet
func BenchmarkTimerSetSetAndFire(b *testing.B) {
	codec := timerCodec(b, "beam:coder:global_window:v1")
	ref := fnharness.TimerFamilyRef{TransformID: "pardo", Family: "ev"}
	families := []TimerFamily{{TimerFamilyRef: ref, Domain: pipepb.TimeDomain_EVENT_TIME, Codec: codec}}
	const keys = 10_000
	encoded := make([][]byte, 2*keys)
	for i := range encoded {
		tm := wire.Timer{Key: wire.AppendLengthPrefixed(nil, fmt.Appendf(nil, "key-%06d", i%keys)), Windows: []wire.Window{wire.GlobalWindow{}}, Fire: int64(i), Hold: int64(i)}
		encoded[i] = codec.Append(nil, tm)
	}
	run := func(b *testing.B, store state.Store) {
		set := NewTimerSet(families, store, 128)
		fired := 0
		for b.Loop() {
			for _, rec := range encoded {
				if err := set.Apply(ref, rec); err != nil {
					b.Fatal(err)
				}
			}
			due, err := set.TakeDue(pipepb.TimeDomain_EVENT_TIME, 1<<62)
			if err != nil {
				b.Fatal(err)
			}
			fired += len(due)
		}
		if fired != keys*b.N {
			b.Fatalf("fired %d timers, want %d", fired, keys*b.N)
		}
		b.ReportMetric(float64(fired)/b.Elapsed().Seconds(), "timers/s")
	}
	b.Run("memory", func(b *testing.B) { run(b, state.NewMemStore()) })
	b.Run("pebble", func(b *testing.B) {
		db, err := state.OpenPebble(b.TempDir(), state.PebbleOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		run(b, db.Store(state.Namespace("job", "s", "0", "timers")))
	})
}
