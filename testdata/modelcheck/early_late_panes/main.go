// Command early_late_panes groups a TestStream of keyed values in ten-second fixed
// windows under the trigger AfterEndOfWindow().EarlyFiring(AfterCount(2)).
// LateFiring(AfterCount(1)) with 20 seconds of allowed lateness, once in accumulating
// and once in discarding mode, and prints every pane with its PaneInfo.
//
// The stream (times after 12:00:00; "k:1" is value 1 of key k):
//
//	at 1s   k:1 k:2    two elements: an early pane
//	watermark 5s
//	at 3s   k:3 x:10
//	watermark 12s      end of [0s,10s): the on-time panes of k and x
//	at 4s   k:4        late, within the allowed lateness: a late pane
//	watermark 15s
//	at 6s   k:5        late again: another late pane
//	watermark 40s      [0s,10s) expires at 30s
//	at 7s   k:6        too late: dropped
//	at 41s  k:7
//	watermark +inf     end of [40s,50s): its only pane, on time
//
// Output, one line per pane: "MODE KEY [START,END) TIMING index=I onTimeIndex=J VALUES"
// with the values sorted. It is one of the `make modelcheck` pipelines (tools/modelcheck).
//
//	go run ./testdata/modelcheck/early_late_panes --output=/tmp/out.txt \
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
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window/trigger"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

// base is the event time that the stream's offsets count from.
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

func init() {
	register.Function1x2(parseKV)
	register.DoFn5x0[beam.PaneInfo, beam.Window, string, func(*int) bool, func(string)](&paneFn{})
	register.Emitter1[string]()
	register.Iter1[int]()
}

// at returns the TestStream timestamp (epoch milliseconds) sec seconds after base.
func at(sec int) int64 { return base.Add(time.Duration(sec) * time.Second).UnixMilli() }

// parseKV splits "key:value".
func parseKV(s string) (string, int) {
	k, v, _ := strings.Cut(s, ":")
	n, err := strconv.Atoi(v)
	if err != nil {
		panic(fmt.Sprintf("bad element %q: %v", s, err))
	}
	return k, n
}

// paneFn renders one grouped pane.
type paneFn struct {
	Mode string
}

func (fn *paneFn) ProcessElement(pn beam.PaneInfo, w beam.Window, key string, values func(*int) bool, emit func(string)) {
	var vs []int
	var v int
	for values(&v) {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	strs := make([]string, len(vs))
	for i, v := range vs {
		strs[i] = strconv.Itoa(v)
	}
	emit(fmt.Sprintf("%s %s %s %s index=%d onTimeIndex=%d %s",
		fn.Mode, key, formatWindow(w), pn.Timing, pn.Index, pn.NonSpeculativeIndex, strings.Join(strs, ",")))
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

// stream is the TestStream described in the package comment.
func stream() teststream.Config {
	c := teststream.NewConfig()
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(c.AddElements(at(1), "k:1", "k:2"))
	must(c.AdvanceWatermark(at(5)))
	must(c.AddElements(at(3), "k:3", "x:10"))
	must(c.AdvanceWatermark(at(12)))
	must(c.AddElements(at(4), "k:4"))
	must(c.AdvanceWatermark(at(15)))
	must(c.AddElements(at(6), "k:5"))
	must(c.AdvanceWatermark(at(40)))
	must(c.AddElements(at(7), "k:6"))
	must(c.AddElements(at(41), "k:7"))
	must(c.AdvanceWatermarkToInfinity())
	return c
}

// panes groups kvs with the early/on-time/late trigger in the given mode and renders
// the panes, back in the global window.
func panes(s beam.Scope, kvs beam.PCollection, mode string, accumulation beam.WindowIntoOption) beam.PCollection {
	s = s.Scope(mode)
	windowed := beam.WindowInto(s, window.NewFixedWindows(10*time.Second), kvs,
		beam.Trigger(trigger.AfterEndOfWindow().
			EarlyFiring(trigger.AfterCount(2)).
			LateFiring(trigger.AfterCount(1))),
		beam.AllowedLateness(20*time.Second),
		accumulation,
	)
	lines := beam.ParDo(s, &paneFn{Mode: mode}, beam.GroupByKey(s, windowed))
	return beam.WindowInto(s, window.NewGlobalWindows(), lines)
}

func main() {
	flag.Parse()
	beam.Init()
	if *output == "" {
		fmt.Fprintln(os.Stderr, "early_late_panes: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	kvs := beam.ParDo(s, parseKV, teststream.Create(s, stream()))
	acc := panes(s, kvs, "accumulating", beam.PanesAccumulate())
	disc := panes(s, kvs, "discarding", beam.PanesDiscard())
	textio.Write(s, *output, beam.Flatten(s, acc, disc))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "early_late_panes: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
