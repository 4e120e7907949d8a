// Command nativeboxed is a sluicegen test pipeline of DoFns over a type the generated
// file cannot name (internal/tally's score, an unexported struct), every SDK stage of
// which runs natively: the chain holds scores as any, calls the DoFns whose signatures
// name them through the SDK's callers, hands them to functions of universal values
// (describe here) as they are, and codes them on the stages' ports with the SDK's
// coder. It appends its results to --output, one line each.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/sluice-runner/sluice/codegen/testdata/nativeboxed/internal/tally"
)

var (
	words  = flag.Int("words", 1000, "how many words to score")
	output = flag.String("output", "", "file to append the results to (required)")
)

func init() {
	register.DoFn2x0[[]byte, func(string)](&makeWordsFn{})
	register.Function1x1(writeLine)
	register.Function1x1(describe)
	register.Emitter1[string]()
}

// makeWordsFn emits N words of 1 to 9 letters.
type makeWordsFn struct {
	N int
}

func (f *makeWordsFn) ProcessElement(_ []byte, emit func(string)) {
	for i := range f.N {
		w := make([]byte, 1+i*7%9)
		for j := range w {
			w[j] = byte('a' + (i*31+j*17)%26)
		}
		emit(string(w))
	}
}

// describe formats any value: here a score the chain holds as any.
func describe(v beam.T) string { return fmt.Sprintf("count %+v", v) }

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
	if *output == "" {
		fmt.Fprintln(os.Stderr, "nativeboxed: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	ws := beam.ParDo(s.Scope("Words"), &makeWordsFn{N: *words}, beam.Impulse(s))
	best, counts := tally.Tally(s, "best ", ws)
	beam.ParDo0(s.Scope("WriteBest"), writeLine, best)
	beam.ParDo0(s.Scope("WriteCounts"), writeLine, beam.ParDo(s, describe, counts))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "nativeboxed: %v\n", err)
		os.Exit(1)
	}
}
