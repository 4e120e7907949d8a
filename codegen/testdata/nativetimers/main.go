// Command nativetimers is a sluicegen test pipeline whose stateful ParDo sets event-time
// timers: per user and fixed window, a timer at the window's end emits the user's count
// from value state and sets a tagged follow-up timer, which emits in turn; tagged timers
// early in the window are set for every user and cleared again for some. Its results are lines that do not
// depend on the order elements arrive in, appended to --output (the native harness's
// end-to-end test compares them native and portable).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var (
	events = flag.Int("events", 200, "how many events to make")
	output = flag.String("output", "", "file to append the result lines to")
)

var vocabulary = strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa")

// makeEventsFn emits Events (user, word) pairs, each at its own event time.
type makeEventsFn struct {
	Events int
}

func (f *makeEventsFn) ProcessElement(_ []byte, emit func(beam.EventTime, string, string)) {
	for i := 0; i < f.Events; i++ {
		emit(beam.EventTime(int64(i)*1000), fmt.Sprintf("user%d", i%7), vocabulary[(i*3+i/5)%len(vocabulary)])
	}
}

// flushFn counts a user's events per window and reports from timers.
type flushFn struct {
	Count state.Value[int]
	End   state.Value[int64]
	Flush timers.EventTime
	Again timers.EventTime
	Never timers.EventTime
}

func (f *flushFn) ProcessElement(w beam.Window, sp state.Provider, tp timers.Provider, user, word string, _ func(string)) error {
	n, _, err := f.Count.Read(sp)
	if err != nil {
		return err
	}
	if err := f.Count.Write(sp, n+1); err != nil {
		return err
	}
	end := w.MaxTimestamp()
	if err := f.End.Write(sp, int64(end)); err != nil {
		return err
	}
	// The flush timer fires once the window is complete, the last of the window's: what
	// OnTimer sets at that time cannot fire inline, in the same bundle, before a timer of
	// the runner's (the SDK would fire it there, under that timer's family), so the output
	// does not depend on how the runner bundles timers.
	f.Flush.Set(tp, end.ToTime())
	f.Never.Set(tp, end.ToTime().Add(-9*time.Second), timers.WithTag(word))
	if strings.HasSuffix(user, "2") || strings.HasSuffix(user, "5") {
		f.Never.ClearTag(tp, word)
	}
	return nil
}

// OnTimer takes the timer's window and its hold time (the event time its outputs carry).
func (f *flushFn) OnTimer(ctx context.Context, w beam.Window, ts beam.EventTime, sp state.Provider, tp timers.Provider, user string, tc timers.Context, emit func(string)) error {
	n, _, err := f.Count.Read(sp)
	if err != nil {
		return err
	}
	switch tc.Family {
	case f.Flush.Family:
		emit(fmt.Sprintf("%s flush %d in window ending %d, at %d", user, n, w.MaxTimestamp(), ts))
		end, _, err := f.End.Read(sp)
		if err != nil {
			return err
		}
		f.Again.Set(tp, mtime.Time(end).ToTime(), timers.WithTag(fmt.Sprintf("after%d", n)))
	case f.Again.Family:
		emit(fmt.Sprintf("%s again %s %d", user, tc.Tag, n))
	case f.Never.Family:
		emit(fmt.Sprintf("%s never %s", user, tc.Tag))
	}
	return nil
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

func init() {
	register.DoFn2x0[[]byte, func(beam.EventTime, string, string)](&makeEventsFn{})
	register.DoFn6x1[beam.Window, state.Provider, timers.Provider, string, string, func(string), error](&flushFn{})
	register.Function1x1(writeLine)
	register.Emitter1[string]()
	register.Emitter3[beam.EventTime, string, string]()
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	evs := beam.ParDo(s.Scope("Events"), &makeEventsFn{Events: *events}, beam.Impulse(s))
	windowed := beam.WindowInto(s.Scope("Window"), window.NewFixedWindows(10*time.Second), evs)
	flushed := beam.ParDo(s.Scope("Flush"), &flushFn{
		Count: state.MakeValueState[int]("count"),
		End:   state.MakeValueState[int64]("end"),
		Flush: timers.InEventTime("flush"),
		Again: timers.InEventTime("again"),
		Never: timers.InEventTime("never"),
	}, windowed)
	beam.ParDo0(s.Scope("Write"), writeLine, flushed)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "nativetimers:", err)
		os.Exit(1)
	}
}
