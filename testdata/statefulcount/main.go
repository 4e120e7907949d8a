// Command statefulcount is the stateful benchmark pipeline: it generates --elements
// elements over --keys keys and counts them per key in a stateful DoFn (value state, read
// and written once per element), which also sets an event-time timer per element at the
// end of the window; the runner keeps one timer per key, so --keys timers fire at the end,
// each emitting its key's count. The result is a histogram, "count=C keys=K" lines, so
// that runners can be compared (every key gets elements/keys elements, give or take one).
//
//	go run ./testdata/statefulcount --elements=10000000 --keys=1000000 --output=out/sc \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var (
	elements = flag.Int64("elements", 1_000_000, "number of elements to generate")
	keys     = flag.Int64("keys", 100_000, "number of distinct keys")
	shards   = flag.Int64("shards", 64, "generator shards (the unit of parallel generation)")
	output   = flag.String("output", "out/statefulcount/result", "file to write the histogram to")
)

// shardsFn emits the shard numbers.
type shardsFn struct{ Shards int64 }

func (f *shardsFn) ProcessElement(_ []byte, emit func(int64)) {
	for i := range f.Shards {
		emit(i)
	}
}

// generateFn emits shard's share of the elements as (key, 1).
type generateFn struct{ Elements, Keys, Shards int64 }

func (f *generateFn) ProcessElement(shard int64, emit func(int64, int64)) {
	from, to := shard*f.Elements/f.Shards, (shard+1)*f.Elements/f.Shards
	for i := from; i < to; i++ {
		emit(i%f.Keys, 1)
	}
}

// countFn counts per key in value state and emits the count when the window ends.
type countFn struct {
	Count state.Value[int64]
	Flush timers.EventTime
}

func (f *countFn) ProcessElement(w beam.Window, sp state.Provider, tp timers.Provider, key, one int64, _ func(int64, int64)) error {
	n, _, err := f.Count.Read(sp)
	if err != nil {
		return err
	}
	f.Flush.Set(tp, w.MaxTimestamp().ToTime())
	return f.Count.Write(sp, n+one)
}

func (f *countFn) OnTimer(ctx context.Context, sp state.Provider, tp timers.Provider, key int64, timer timers.Context, emit func(int64, int64)) error {
	n, _, err := f.Count.Read(sp)
	if err != nil {
		return err
	}
	emit(n, 1) // a key with count n
	return nil
}

func format(count, keys int64) string { return fmt.Sprintf("count=%d keys=%d", count, keys) }

func init() {
	register.DoFn2x0[[]byte, func(int64)](&shardsFn{})
	register.DoFn2x0[int64, func(int64, int64)](&generateFn{})
	register.DoFn6x1[beam.Window, state.Provider, timers.Provider, int64, int64, func(int64, int64), error](&countFn{})
	register.Function2x1(format)
	register.Emitter1[int64]()
	register.Emitter2[int64, int64]()
}

func main() {
	flag.Parse()
	beam.Init()
	if *elements <= 0 || *keys <= 0 || *shards <= 0 || *output == "" {
		fmt.Fprintln(os.Stderr, "statefulcount: --elements, --keys and --shards must be positive and --output set")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	seeds := beam.Reshuffle(s, beam.ParDo(s, &shardsFn{Shards: *shards}, beam.Impulse(s)))
	kvs := beam.ParDo(s, &generateFn{Elements: *elements, Keys: *keys, Shards: *shards}, seeds)
	counts := beam.ParDo(s, &countFn{Count: state.MakeValueState[int64]("count"), Flush: timers.InEventTime("flush")}, kvs)
	histogram := stats.SumPerKey(s, counts)
	textio.Write(s, *output, beam.ParDo(s, format, histogram))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "statefulcount: %v\n", err)
		os.Exit(1)
	}
}
