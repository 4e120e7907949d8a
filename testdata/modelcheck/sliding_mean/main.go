// Command sliding_mean averages each key's values per sliding window, one minute long
// and starting every 30 seconds (stats.MeanPerKey over window.NewSlidingWindows), so
// every value counts in two windows.
//
// Output, one line per key and window: "KEY [START,END) MEAN".
// It is one of the `make modelcheck` pipelines (tools/modelcheck).
//
//	go run ./testdata/modelcheck/sliding_mean --output=/tmp/out.txt \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

// base is the event time that the readings' offsets count from.
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// reading is one input record: Value for Key, Second seconds after base.
type reading struct {
	Key    string
	Second int
	Value  int
}

func init() {
	register.Function2x0(stampReading)
	register.Emitter3[beam.EventTime, string, int]()
	register.Function4x0(formatMean)
	register.Emitter1[string]()
}

// stampReading gives a reading its event time and keys it.
func stampReading(r reading, emit func(beam.EventTime, string, int)) {
	emit(mtime.FromTime(base.Add(time.Duration(r.Second)*time.Second)), r.Key, r.Value)
}

// formatMean renders one window's mean.
func formatMean(w beam.Window, key string, mean float64, emit func(string)) {
	emit(fmt.Sprintf("%s %s %s", key, formatWindow(w), strconv.FormatFloat(mean, 'f', -1, 64)))
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
		fmt.Fprintln(os.Stderr, "sliding_mean: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	readings := beam.Create(s,
		reading{"a", 10, 1}, reading{"a", 40, 3}, reading{"a", 70, 8},
		reading{"b", 15, 2}, reading{"b", 50, 4},
	)
	stamped := beam.ParDo(s, stampReading, readings)
	sliding := beam.WindowInto(s, window.NewSlidingWindows(30*time.Second, time.Minute), stamped)
	means := beam.ParDo(s, formatMean, stats.MeanPerKey(s, sliding))
	textio.Write(s, *output, beam.WindowInto(s, window.NewGlobalWindows(), means))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "sliding_mean: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
