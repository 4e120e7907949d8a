// Command processing_time_flush counts each key's elements in value state and emits the
// count from a processing-time timer set one second after the key's first element: the
// "flush after a delay" pattern of Beam's timers guide, over a small bounded input in
// the global window.
//
// Output, one line per key: "KEY COUNT". The input is small enough that every element
// reaches the DoFn well within the second, so the count is the key's whole count.
// It is one of the `make modelcheck` pipelines (tools/modelcheck).
//
//	go run ./testdata/modelcheck/processing_time_flush --output=/tmp/out.txt \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

func init() {
	register.Function1x2(keyOf)
	register.DoFn5x1[state.Provider, timers.Provider, string, string, func(string), error](&countFn{})
	register.Emitter1[string]()
}

// keyOf keys a word by its first letter.
func keyOf(word string) (string, string) { return word[:1], word }

// countFn counts a key's elements and reports the count a second after the first one.
type countFn struct {
	Count state.Value[int]
	Flush timers.ProcessingTime
}

func (fn *countFn) ProcessElement(sp state.Provider, tp timers.Provider, key, word string, emit func(string)) error {
	n, ok, err := fn.Count.Read(sp)
	if err != nil {
		return err
	}
	if !ok {
		fn.Flush.Set(tp, time.Now().Add(time.Second))
	}
	return fn.Count.Write(sp, n+1)
}

func (fn *countFn) OnTimer(ctx context.Context, sp state.Provider, tp timers.Provider, key string, timer timers.Context, emit func(string)) error {
	n, _, err := fn.Count.Read(sp)
	if err != nil {
		return err
	}
	emit(fmt.Sprintf("%s %d", key, n))
	return fn.Count.Clear(sp)
}

func main() {
	flag.Parse()
	beam.Init()
	if *output == "" {
		fmt.Fprintln(os.Stderr, "processing_time_flush: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	words := beam.Create(s, "apple", "avocado", "banana", "apricot", "blueberry", "cherry")
	keyed := beam.ParDo(s, keyOf, words)
	counts := beam.ParDo(s, &countFn{
		Count: state.MakeValueState[int]("count"),
		Flush: timers.InProcessingTime("flush"),
	}, keyed)
	textio.Write(s, *output, counts)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "processing_time_flush: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
