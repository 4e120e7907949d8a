// Command sessions_early_firings groups a TestStream of keyed values in session windows
// with a 10-second gap under AfterEndOfWindow().EarlyFiring(AfterCount(2)) in discarding
// mode, and prints every pane. Sessions must merge as elements arrive so that an early
// firing sees the session as it is; prism refuses triggers other than the default on
// merging windows.
//
// The stream (seconds after 12:00:00):
//
//	at 1s  k:1         session [1s,11s)
//	at 5s  k:2         merges: [1s,15s) holds 2 elements, the early pane 1,2
//	at 30s k:3         a session of its own, [30s,40s)
//	at 12s k:4         extends [1s,15s) to [1s,22s)
//	watermark 25s      end of [1s,22s): its on-time pane, 4
//	at 26s k:5         bridges into [26s,40s) with 3: two elements, the early pane 3,5
//	watermark +inf     end of [26s,40s): nothing new, so no pane
//
// Output, one line per pane: "KEY [START,END) TIMING index=I last=L VALUES", values sorted.
// It is one of the `make modelcheck` pipelines (tools/modelcheck).
//
//	go run ./testdata/modelcheck/sessions_early_firings --output=/tmp/out.txt \
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
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window/trigger"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

// base is the event time the stream's offsets count from.
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

func at(second int) int64 {
	return mtime.FromTime(base.Add(time.Duration(second) * time.Second)).Milliseconds()
}

func keyed(v int64) (string, int64) { return "k", v }

// describePane renders one pane.
func describePane(p typex.PaneInfo, w beam.Window, key string, values func(*int64) bool) string {
	var vs []int64
	var v int64
	for values(&v) {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.FormatInt(v, 10)
	}
	timing := map[typex.PaneTiming]string{typex.PaneEarly: "early", typex.PaneOnTime: "on-time", typex.PaneLate: "late"}[p.Timing]
	return fmt.Sprintf("%s %s %s index=%d last=%v %s", key, formatWindow(w), timing, p.Index, p.IsLast, strings.Join(parts, ","))
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

func init() {
	register.Function1x2(keyed)
	register.Function4x1(describePane)
}

func main() {
	flag.Parse()
	beam.Init()
	if *output == "" {
		fmt.Fprintln(os.Stderr, "sessions_early_firings: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	c := teststream.NewConfig()
	c.AddElements(at(1), int64(1))
	c.AddElements(at(5), int64(2))
	c.AddElements(at(30), int64(3))
	c.AddElements(at(12), int64(4))
	c.AdvanceWatermark(at(25))
	c.AddElements(at(26), int64(5))
	values := beam.ParDo(s, keyed, teststream.Create(s, c))
	sessions := beam.WindowInto(s, window.NewSessions(10*time.Second), values,
		beam.Trigger(trigger.AfterEndOfWindow().EarlyFiring(trigger.AfterCount(2))), beam.PanesDiscard())
	panes := beam.ParDo(s, describePane, beam.GroupByKey(s, sessions))
	textio.Write(s, *output, beam.WindowInto(s, window.NewGlobalWindows(), panes))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "sessions_early_firings: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
