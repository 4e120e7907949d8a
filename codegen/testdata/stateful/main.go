// Command stateful is a sluicegen test pipeline: a stateful DoFn counts elements per key
// in value state and emits each key's count from an event-time timer at the end of the
// window.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

func keyed(word string) (string, int) { return word, 1 }

// countFn counts per key and emits the count when the window ends.
type countFn struct {
	Count state.Value[int]
	Flush timers.EventTime
}

func (f *countFn) ProcessElement(w beam.Window, sp state.Provider, tp timers.Provider, key string, one int, _ func(string, int)) error {
	n, _, err := f.Count.Read(sp)
	if err != nil {
		return err
	}
	f.Flush.Set(tp, w.MaxTimestamp().ToTime())
	return f.Count.Write(sp, n+one)
}

func (f *countFn) OnTimer(ctx context.Context, sp state.Provider, tp timers.Provider, key string, timer timers.Context, emit func(string, int)) error {
	n, _, err := f.Count.Read(sp)
	if err != nil {
		return err
	}
	emit(key, n)
	return nil
}

func format(key string, n int) string { return fmt.Sprintf("%s=%d", key, n) }

func discard(string) {}

func init() {
	register.Function1x2(keyed)
	register.DoFn6x1[beam.Window, state.Provider, timers.Provider, string, int, func(string, int), error](&countFn{})
	register.Function2x1(format)
	register.Function1x0(discard)
	register.Emitter2[string, int]()
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	kvs := beam.ParDo(s, keyed, beam.Create(s, "a", "b", "a"))
	counts := beam.ParDo(s.Scope("Count"), &countFn{Count: state.MakeValueState[int]("count"), Flush: timers.InEventTime("flush")}, kvs)
	beam.ParDo0(s.Scope("Discard"), discard, beam.ParDo(s.Scope("Format"), format, counts))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "stateful:", err)
		os.Exit(1)
	}
}
