// Command nativecount is a sluicegen test pipeline every SDK stage of which runs natively:
// an impulse, a function DoFn emitting fixed lines, a word split, stats.Count (a lifted
// combine with a merge function), a format step and a sink. The sink keeps what it sees,
// so that a test running the generated chains can check their output.
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

// lines is the text the pipeline counts the words of.
var lines = []string{"the quick brown fox", "jumps over the lazy dog", "the dog sleeps"}

func emitLines(_ []byte, emit func(string)) {
	for _, l := range lines {
		emit(l)
	}
}

func splitWords(line string, emit func(string)) {
	for _, w := range strings.Fields(line) {
		emit(w)
	}
}

func formatCount(word string, count int) string { return fmt.Sprintf("%s: %d", word, count) }

// seen is what collect was given, in this process: a test's window on the last stage,
// which has no output.
var seen struct {
	sync.Mutex
	lines []string
}

func collect(line string) {
	seen.Lock()
	defer seen.Unlock()
	seen.lines = append(seen.lines, line)
}

func init() {
	register.Function2x0(emitLines)
	register.Function2x0(splitWords)
	register.Function2x1(formatCount)
	register.Function1x0(collect)
	register.Emitter1[string]()
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	text := beam.ParDo(s.Scope("Lines"), emitLines, beam.Impulse(s))
	words := beam.ParDo(s.Scope("Split"), splitWords, text)
	counts := stats.Count(s.Scope("Count"), words)
	formatted := beam.ParDo(s.Scope("Format"), formatCount, counts)
	beam.ParDo0(s.Scope("Collect"), collect, formatted)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "nativecount:", err)
		os.Exit(1)
	}
}
