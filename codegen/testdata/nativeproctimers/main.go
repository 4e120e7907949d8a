// Command nativeproctimers is a sluicegen test pipeline whose stateful ParDo sets
// processing-time timers: each key's elements are counted in value state and the count
// is emitted from a timer set a second after the key's first element (the "flush after a
// delay" pattern of testdata/modelcheck/processing_time_flush), over an input small
// enough that every element arrives within the second. It appends its results to
// --output (the native harness's end-to-end test compares them native and portable).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to append the result lines to")

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
	emit(fmt.Sprintf("%s %d %s", key, n, timer.Family))
	return fn.Count.Clear(sp)
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
	register.Function1x2(keyOf)
	register.DoFn5x1[state.Provider, timers.Provider, string, string, func(string), error](&countFn{})
	register.Function1x1(writeLine)
	register.Emitter1[string]()
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	words := beam.Create(s, "apple", "avocado", "banana", "apricot", "blueberry", "cherry")
	counts := beam.ParDo(s.Scope("Count"), &countFn{
		Count: state.MakeValueState[int]("count"),
		Flush: timers.InProcessingTime("flush"),
	}, beam.ParDo(s, keyOf, words))
	beam.ParDo0(s.Scope("Write"), writeLine, counts)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "nativeproctimers:", err)
		os.Exit(1)
	}
}
