// Command two_timer_families has a DoFn with two event-time timer families: "remind" at
// the element's time plus 10 seconds and "close" at the end of the element's one-minute
// window, each set per element (the runner keeps the last one per key and window). Each
// firing reports the family, key and time.
//
// The Go SDK (v2.77.0) ends a bundle's input after one is_last marker per transform with
// timers, not one per timer family, and waits forever when the runner ends each family
// and the whole input arrives before the bundle's data source opens; Sluice ends only one
// family per transform. prism hangs on this pipeline.
//
// Output, one line per firing: "FAMILY KEY HH:MM:SS".
// It is one of the `make modelcheck` pipelines (tools/modelcheck).
//
//	go run ./testdata/modelcheck/two_timer_families --output=/tmp/out.txt \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

// base is the event time the elements' offsets count from.
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// event is one input: Key at Second seconds after base.
type event struct {
	Key    string
	Second int
}

func stamp(e event, emit func(beam.EventTime, string, int)) {
	emit(mtime.FromTime(base.Add(time.Duration(e.Second)*time.Second)), e.Key, e.Second)
}

// twoFamiliesFn sets both timers for every element.
type twoFamiliesFn struct {
	Remind timers.EventTime
	Close  timers.EventTime
}

func (fn *twoFamiliesFn) ProcessElement(w beam.Window, ts beam.EventTime, tp timers.Provider, key string, second int, emit func(string)) {
	fn.Remind.Set(tp, ts.ToTime().Add(10*time.Second))
	fn.Close.Set(tp, w.MaxTimestamp().ToTime())
}

func (fn *twoFamiliesFn) OnTimer(ctx context.Context, ts beam.EventTime, tp timers.Provider, key string, timer timers.Context, emit func(string)) {
	emit(fmt.Sprintf("%s %s %s", timer.Family, key, ts.ToTime().UTC().Format("15:04:05")))
}

func init() {
	register.Function2x0(stamp)
	register.Emitter3[beam.EventTime, string, int]()
	register.DoFn6x0[beam.Window, beam.EventTime, timers.Provider, string, int, func(string)](&twoFamiliesFn{})
	register.Emitter1[string]()
}

func main() {
	flag.Parse()
	beam.Init()
	if *output == "" {
		fmt.Fprintln(os.Stderr, "two_timer_families: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	events := beam.Create(s, event{"a", 5}, event{"a", 20}, event{"b", 30}, event{"b", 70})
	windowed := beam.WindowInto(s, window.NewFixedWindows(time.Minute), beam.ParDo(s, stamp, events))
	fired := beam.ParDo(s, &twoFamiliesFn{Remind: timers.InEventTime("remind"), Close: timers.InEventTime("close")}, windowed)
	textio.Write(s, *output, beam.WindowInto(s, window.NewGlobalWindows(), fired))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "two_timer_families: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
