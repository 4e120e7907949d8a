// Command ordered_list_state puts a TestStream's out-of-order events back into event-time
// order per key: a stateful DoFn buffers each event in OrderedListState under its
// timestamp and sets an event-time timer (tagged with that timestamp) for it; when a
// timer fires it emits the buffered events up to the timer's time in order, numbering
// them, and clears them. MapState counts the events of each kind per key, reported by a
// timer at the end of the global window.
//
// Both kinds of timer are tags of one timer family: with a second family in the DoFn the
// Go SDK (v2.77.0) waits forever for a bundle's input, on every runner. Its data channel
// expects one is_last per timer transform but the Fn API sends one per timer family
// (harness.elementsChan counts them), so a bundle whose input all arrives before the SDK
// opens it never ends.
//
// The stream (times after 12:00:00; "a:view" is an event of kind view for key a):
//
//	at 30s  a:view b:click
//	at 10s  a:click
//	watermark 20s      a's 10s event is emitted
//	at 25s  a:view
//	at 22s  b:click
//	at 25s  b:view
//	watermark +inf     the rest, then the counts
//
// Output: "KEY SEQ HH:MM:SS KIND" per event and "KEY kinds KIND=N,..." per key.
// It is one of the `make modelcheck` pipelines (tools/modelcheck).
//
//	go run ./testdata/modelcheck/ordered_list_state --output=/tmp/out.txt \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

// base is the event time that the stream's offsets count from.
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

func init() {
	register.Function1x2(parseEvent)
	register.DoFn7x1[beam.Window, beam.EventTime, state.Provider, timers.Provider, string, string, func(string), error](&reorderFn{})
	register.Emitter1[string]()
}

// at returns the TestStream timestamp (epoch milliseconds) sec seconds after base.
func at(sec int) int64 { return base.Add(time.Duration(sec) * time.Second).UnixMilli() }

// parseEvent splits "key:kind".
func parseEvent(s string) (string, string) {
	k, kind, _ := strings.Cut(s, ":")
	return k, kind
}

// reorderFn emits each key's events in event-time order and counts them by kind.
type reorderFn struct {
	Pending state.OrderedList[string]
	Emitted state.Value[int]
	Kinds   state.Map[string, int]
	Due     timers.EventTime // tag: the event time to flush up to, or summaryTag
}

// summaryTag tags the timer at the end of the window that reports the counts.
const summaryTag = "summary"

func (fn *reorderFn) ProcessElement(w beam.Window, ts beam.EventTime, sp state.Provider, tp timers.Provider, key, kind string, emit func(string)) error {
	if err := fn.Pending.Add(sp, int64(ts), kind); err != nil {
		return err
	}
	fn.Due.Set(tp, ts.ToTime(), timers.WithTag(strconv.FormatInt(int64(ts), 10)))
	fn.Due.Set(tp, w.MaxTimestamp().ToTime(), timers.WithTag(summaryTag))
	n, _, err := fn.Kinds.Get(sp, kind)
	if err != nil {
		return err
	}
	return fn.Kinds.Put(sp, kind, n+1)
}

func (fn *reorderFn) OnTimer(ctx context.Context, ts beam.EventTime, sp state.Provider, tp timers.Provider, key string, timer timers.Context, emit func(string)) error {
	if timer.Tag == summaryTag {
		return fn.summarize(sp, key, emit)
	}
	return fn.flush(sp, ts, key, emit)
}

// flush emits and clears the key's pending events up to and including ts.
func (fn *reorderFn) flush(sp state.Provider, ts beam.EventTime, key string, emit func(string)) error {
	due, _, err := fn.Pending.ReadRange(sp, math.MinInt64, int64(ts)+1)
	if err != nil {
		return err
	}
	seq, _, err := fn.Emitted.Read(sp)
	if err != nil {
		return err
	}
	for _, e := range due {
		seq++
		emit(fmt.Sprintf("%s %d %s %s", key, seq, mtime.Time(e.SortKey).ToTime().UTC().Format("15:04:05"), e.Value))
	}
	if err := fn.Emitted.Write(sp, seq); err != nil {
		return err
	}
	return fn.Pending.ClearRange(sp, math.MinInt64, int64(ts)+1)
}

// summarize emits the key's event counts by kind.
func (fn *reorderFn) summarize(sp state.Provider, key string, emit func(string)) error {
	kinds, _, err := fn.Kinds.Keys(sp)
	if err != nil {
		return err
	}
	slices.Sort(kinds)
	counts := make([]string, len(kinds))
	for i, kind := range kinds {
		n, _, err := fn.Kinds.Get(sp, kind)
		if err != nil {
			return err
		}
		counts[i] = fmt.Sprintf("%s=%d", kind, n)
	}
	emit(fmt.Sprintf("%s kinds %s", key, strings.Join(counts, ",")))
	return nil
}

// stream is the TestStream described in the package comment.
func stream() teststream.Config {
	c := teststream.NewConfig()
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(c.AddElements(at(30), "a:view", "b:click"))
	must(c.AddElements(at(10), "a:click"))
	must(c.AdvanceWatermark(at(20)))
	must(c.AddElements(at(25), "a:view"))
	must(c.AddElements(at(22), "b:click"))
	must(c.AddElements(at(25), "b:view"))
	must(c.AdvanceWatermarkToInfinity())
	return c
}

func main() {
	flag.Parse()
	beam.Init()
	if *output == "" {
		fmt.Fprintln(os.Stderr, "ordered_list_state: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	events := beam.ParDo(s, parseEvent, teststream.Create(s, stream()))
	lines := beam.ParDo(s, &reorderFn{
		Pending: state.MakeOrderedListState[string]("pending"),
		Emitted: state.MakeValueState[int]("emitted"),
		Kinds:   state.MakeMapState[string, int]("kinds"),
		Due:     timers.InEventTime("due"),
	}, events)
	textio.Write(s, *output, lines)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "ordered_list_state: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
