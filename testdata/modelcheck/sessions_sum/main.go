// Command sessions_sum sums each key's values per session window with a 30-second gap
// (stats.SumPerKey over window.NewSessions). Key b's sessions [12:00:05,12:00:35) and
// [12:00:50,12:01:20) are bridged into one by its value at 12:00:30.
//
// Output, one line per key and session: "KEY [START,END) SUM".
// It is one of the `make modelcheck` pipelines (tools/modelcheck).
//
//	go run ./testdata/modelcheck/sessions_sum --output=/tmp/out.txt \
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
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

// base is the event time that the clicks' offsets count from.
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// click is one input record: Value for Key, Second seconds after base.
type click struct {
	Key    string
	Second int
	Value  int
}

func init() {
	register.Function2x0(stampClick)
	register.Emitter3[beam.EventTime, string, int]()
	register.Function4x0(formatSum)
	register.Emitter1[string]()
}

// stampClick gives a click its event time and keys it.
func stampClick(c click, emit func(beam.EventTime, string, int)) {
	emit(mtime.FromTime(base.Add(time.Duration(c.Second)*time.Second)), c.Key, c.Value)
}

// formatSum renders one session's sum.
func formatSum(w beam.Window, key string, sum int, emit func(string)) {
	emit(fmt.Sprintf("%s %s %d", key, formatWindow(w), sum))
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
		fmt.Fprintln(os.Stderr, "sessions_sum: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	clicks := beam.Create(s,
		click{"a", 0, 1}, click{"a", 10, 2}, click{"a", 25, 3}, click{"a", 100, 10},
		click{"b", 5, 1}, click{"b", 50, 2}, click{"b", 30, 4},
		click{"c", 200, 5},
	)
	stamped := beam.ParDo(s, stampClick, clicks)
	sessions := beam.WindowInto(s, window.NewSessions(30*time.Second), stamped)
	sums := beam.ParDo(s, formatSum, stats.SumPerKey(s, sessions))
	textio.Write(s, *output, beam.WindowInto(s, window.NewGlobalWindows(), sums))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "sessions_sum: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
