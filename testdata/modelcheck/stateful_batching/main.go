// Command stateful_batching buffers each key's values in bag state and flushes them
// with an event-time timer at the end of the element's fixed one-minute window: the
// "batch per key and window" pattern of Beam's state and timers guide.
//
// Output, one line per key and window: "KEY [START,END) v1,v2,...", values sorted.
// It is one of the `make modelcheck` pipelines (tools/modelcheck); expected.txt next to
// it is the result the Beam model prescribes.
//
//	go run ./testdata/modelcheck/stateful_batching --output=/tmp/out.txt \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

// base is the event time that the readings' offsets count from.
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// reading is one input record: Value for Key, observed Second seconds after base.
type reading struct {
	Key    string
	Second int
	Value  int
}

func init() {
	register.Function2x0(stampReading)
	register.Emitter3[beam.EventTime, string, int]()
	register.DoFn6x1[beam.Window, state.Provider, timers.Provider, string, int, func(string), error](&batchFn{})
	register.Emitter1[string]()
}

// stampReading gives a reading its event time and keys it.
func stampReading(r reading, emit func(beam.EventTime, string, int)) {
	emit(mtime.FromTime(base.Add(time.Duration(r.Second)*time.Second)), r.Key, r.Value)
}

// batchFn collects a key's values per window and emits them in one line once the
// watermark passes the end of the window.
type batchFn struct {
	Buffer state.Bag[int]
	Flush  timers.EventTime
}

func (fn *batchFn) ProcessElement(w beam.Window, sp state.Provider, tp timers.Provider, key string, value int, emit func(string)) error {
	fn.Flush.Set(tp, w.MaxTimestamp().ToTime())
	return fn.Buffer.Add(sp, value)
}

func (fn *batchFn) OnTimer(ctx context.Context, w beam.Window, sp state.Provider, tp timers.Provider, key string, timer timers.Context, emit func(string)) error {
	values, ok, err := fn.Buffer.Read(sp)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("timer %q fired for key %q in %v with an empty buffer", timer.Family, key, w)
	}
	slices.Sort(values)
	strs := make([]string, len(values))
	for i, v := range values {
		strs[i] = strconv.Itoa(v)
	}
	emit(fmt.Sprintf("%s %s %s", key, formatWindow(w), strings.Join(strs, ",")))
	return fn.Buffer.Clear(sp)
}

// formatWindow renders an interval window as [HH:MM:SS,HH:MM:SS) in UTC.
func formatWindow(w beam.Window) string {
	iw, ok := w.(window.IntervalWindow)
	if !ok {
		return fmt.Sprint(w)
	}
	clock := func(t beam.EventTime) string { return t.ToTime().UTC().Format("15:04:05") }
	return fmt.Sprintf("[%s,%s)", clock(iw.Start), clock(iw.End))
}

func main() {
	flag.Parse()
	beam.Init()
	if *output == "" {
		fmt.Fprintln(os.Stderr, "stateful_batching: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	readings := beam.Create(s,
		reading{"a", 5, 1}, reading{"a", 20, 2}, reading{"a", 70, 3}, reading{"b", 10, 4},
		reading{"b", 65, 5}, reading{"b", 80, 6}, reading{"a", 59, 7}, reading{"b", 119, 8},
		reading{"a", 125, 9},
	)
	stamped := beam.ParDo(s, stampReading, readings)
	windowed := beam.WindowInto(s, window.NewFixedWindows(time.Minute), stamped)
	batches := beam.ParDo(s, &batchFn{
		Buffer: state.MakeBagState[int]("buffer"),
		Flush:  timers.InEventTime("flush"),
	}, windowed)
	textio.Write(s, *output, beam.WindowInto(s, window.NewGlobalWindows(), batches))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "stateful_batching: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
