// Command timer_with_tags sets event-time timers of one timer family under dynamic tags
// (timers.WithTag), several per key, each firing at its own time. Setting the same tag
// twice leaves one timer, and a "repeat" timer sets itself again from OnTimer every 20
// seconds until 12:01:00.
//
// It does not clear a timer from OnTimer: the Go SDK (v2.77.0) then calls OnTimer for
// the cleared timer, with timestamp 0, whenever a later timer of the same key and window
// arrives in the same bundle (exec.ParDo.ProcessTimers fires the inserted cleared timer
// as if it were set), on every runner.
//
// Output, one line per firing: "KEY TAG HH:MM:SS", the time the timer fired at.
// It is one of the `make modelcheck` pipelines (tools/modelcheck).
//
//	go run ./testdata/modelcheck/timer_with_tags --output=/tmp/out.txt \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

// base is the event time that the timers' offsets count from.
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// request asks for a timer tagged Tag on Key, Second seconds after base.
type request struct {
	Key    string
	Tag    string
	Second int
}

func init() {
	register.Function1x2(keyRequest)
	register.DoFn4x0[timers.Provider, string, request, func(string)](&alarmFn{})
	register.Emitter1[string]()
}

// keyRequest keys a request by its key.
func keyRequest(r request) (string, request) { return r.Key, r }

// alarmFn sets one timer per (key, tag) and reports every firing.
type alarmFn struct {
	Alarm timers.EventTime
}

func (fn *alarmFn) ProcessElement(tp timers.Provider, key string, r request, emit func(string)) {
	fn.Alarm.Set(tp, base.Add(time.Duration(r.Second)*time.Second), timers.WithTag(r.Tag))
}

func (fn *alarmFn) OnTimer(ctx context.Context, ts beam.EventTime, tp timers.Provider, key string, timer timers.Context, emit func(string)) {
	fired := ts.ToTime()
	emit(fmt.Sprintf("%s %s %s", key, timer.Tag, fired.UTC().Format("15:04:05")))
	if timer.Tag == "repeat" {
		if next := fired.Add(20 * time.Second); !next.After(base.Add(time.Minute)) {
			fn.Alarm.Set(tp, next, timers.WithTag("repeat"))
		}
	}
}

func main() {
	flag.Parse()
	beam.Init()
	if *output == "" {
		fmt.Fprintln(os.Stderr, "timer_with_tags: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	requests := beam.Create(s,
		request{"a", "open", 10}, request{"a", "remind", 30}, request{"a", "close", 50},
		request{"a", "remind", 30}, // the same timer again: it still fires once
		request{"b", "open", 5}, request{"b", "repeat", 15},
		request{"c", "remind", 60}, request{"c", "close", 40},
	)
	alarms := beam.ParDo(s, &alarmFn{Alarm: timers.InEventTime("alarm")}, beam.ParDo(s, keyRequest, requests))
	textio.Write(s, *output, alarms)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "timer_with_tags: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
