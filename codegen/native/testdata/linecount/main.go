// Command linecount is the native harness's end-to-end pipeline: a word count whose
// every SDK stage sluicegen generates a chain for. It makes its own lines (no source
// transform: a struct DoFn configured with --lines), counts their words and appends
// "word: count" lines to --output from a DoFn: every worker process on the machine
// appends to the same file.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var (
	lines  = flag.Int("lines", 1000, "how many lines to make")
	output = flag.String("output", "", "file to append the \"word: count\" lines to (required)")
)

func init() {
	register.DoFn2x0[[]byte, func(string)](&makeLinesFn{})
	register.Function3x0(splitWords)
	register.Function2x1(formatCount)
	register.Function1x1(writeLine)
	register.Emitter1[string]()
}

var vocabulary = strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu")

// makeLinesFn emits Lines lines of words chosen by a fixed rule. The launcher's --lines
// sets Lines when it builds the pipeline: workers get it from the DoFn's configuration,
// native and portable stages alike.
type makeLinesFn struct {
	Lines int
}

func (f *makeLinesFn) ProcessElement(_ []byte, emit func(string)) {
	for i := 0; i < f.Lines; i++ {
		var b strings.Builder
		for j := 0; j <= i%7; j++ {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(vocabulary[(i*j+i/3)%len(vocabulary)])
		}
		emit(b.String())
	}
}

// wordCount counts the words split, so that the tests can check user metrics.
var wordCount = beam.NewCounter("linecount", "words")

func splitWords(ctx context.Context, line string, emit func(string)) {
	for _, w := range strings.Fields(line) {
		wordCount.Inc(ctx, 1)
		emit(w)
	}
}

func formatCount(word string, count int) string { return fmt.Sprintf("%s: %d", word, count) }

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
		fmt.Fprintln(os.Stderr, "linecount: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	words := beam.ParDo(s, splitWords, beam.ParDo(s, &makeLinesFn{Lines: *lines}, beam.Impulse(s)))
	beam.ParDo0(s, writeLine, beam.ParDo(s, formatCount, stats.Count(s, words)))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "linecount: %v\n", err)
		os.Exit(1)
	}
}
