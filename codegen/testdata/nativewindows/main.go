// Command nativewindows is a sluicegen test pipeline of windowed stages: timestamped events
// windowed into fixed, sliding and session windows, counted per key and window by a lifted
// combine of a merge function, grouped by a GroupByKey (and windowed back into the global
// window after), and formatted by DoFns that take their window (one of them before any
// grouping, where the SDK invokes it once per window of a sliding-windowed element).
// Every branch appends its lines to --output, so that an end-to-end test can compare a
// native run with a portable one.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var (
	events = flag.Int("events", 500, "how many events to make")
	output = flag.String("output", "", "file to append the result lines to (required to run)")
)

func init() {
	register.DoFn2x0[[]byte, func(beam.EventTime, string)](&makeEventsFn{})
	register.Function2x2(windowKey)
	register.Function3x1(sumWindow)
	register.Function3x1(formatCount)
	register.Function1x1(writeLine)
	register.Emitter2[beam.EventTime, string]()
	register.Iter1[int]()
}

var users = []string{"ada", "bob", "cy", "dee", "eve"}

// makeEventsFn emits Events user names, each at an event time chosen by a fixed rule that
// spreads them over about twenty seconds, with gaps that split sessions.
type makeEventsFn struct {
	Events int
}

func (f *makeEventsFn) ProcessElement(_ []byte, emit func(beam.EventTime, string)) {
	for i := 0; i < f.Events; i++ {
		ms := int64(i*i*7919)%20_000 + int64(i%3)
		emit(beam.EventTime(ms), users[(i*i+i/7)%len(users)])
	}
}

// windowStart is an interval window's start in milliseconds (0 for the global window).
func windowStart(w beam.Window) int64 {
	if iw, ok := w.(window.IntervalWindow); ok {
		return int64(iw.Start)
	}
	return 0
}

// windowKey keys a user by the window it is in: the SDK calls it once per window.
func windowKey(w beam.Window, user string) (string, int) {
	return fmt.Sprintf("%s@%d", user, windowStart(w)), 1
}

// sumWindow sums a group's values and says which window it was in.
func sumWindow(w beam.Window, key string, values func(*int) bool) string {
	sum, v := 0, 0
	for values(&v) {
		sum += v
	}
	return fmt.Sprintf("grouped %v %s: %d", w, key, sum)
}

func formatCount(w beam.Window, user string, count int) string {
	return fmt.Sprintf("%v %s: %d", w, user, count)
}

var out struct {
	sync.Mutex
	f *os.File
}

// writeLine appends a line to --output.
func writeLine(line string) error {
	out.Lock()
	defer out.Unlock()
	if out.f == nil {
		path := *output
		if path == "" {
			path = beam.PipelineOptions.Get("output")
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		out.f = f
	}
	_, err := fmt.Fprintln(out.f, line)
	return err
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	build(s, *events)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "nativewindows: %v\n", err)
		os.Exit(1)
	}
}

// build adds the pipeline to s: n events, windowed three ways, counted, grouped, written.
func build(s beam.Scope, n int) {
	users := beam.ParDo(s.Scope("Events"), &makeEventsFn{Events: n}, beam.Impulse(s))

	fixed := beam.WindowInto(s.Scope("Fixed"), window.NewFixedWindows(2*time.Second), users)
	beam.ParDo0(s.Scope("WriteFixed"), writeLine, beam.ParDo(s.Scope("FormatFixed"), formatCount, stats.Count(s.Scope("CountFixed"), fixed)))

	sliding := beam.WindowInto(s.Scope("Sliding"), window.NewSlidingWindows(time.Second, 3*time.Second), users)
	beam.ParDo0(s.Scope("WriteSliding"), writeLine, beam.ParDo(s.Scope("FormatSliding"), formatCount, stats.Count(s.Scope("CountSliding"), sliding)))
	grouped := beam.GroupByKey(s.Scope("Group"), beam.ParDo(s.Scope("WindowKey"), windowKey, sliding))
	sums := beam.ParDo(s.Scope("SumWindow"), sumWindow, grouped)
	beam.ParDo0(s.Scope("WriteGrouped"), writeLine, beam.WindowInto(s.Scope("Global"), window.NewGlobalWindows(), sums))

	sessions := beam.WindowInto(s.Scope("Sessions"), window.NewSessions(300*time.Millisecond), users)
	beam.ParDo0(s.Scope("WriteSessions"), writeLine, beam.ParDo(s.Scope("FormatSessions"), formatCount, stats.Count(s.Scope("CountSessions"), sessions)))
}
