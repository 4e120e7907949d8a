// Command wordcount is a sluicegen test pipeline: a word count over a few lines. With
// --lower it splits with lowerWords instead of splitWords, so that a test can change one
// DoFn and see which stage fingerprints move.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var lower = flag.Bool("lower", false, "split into lower-cased words (a different DoFn)")

func splitWords(line string, emit func(string)) {
	for _, w := range strings.Fields(line) {
		emit(w)
	}
}

func lowerWords(line string, emit func(string)) {
	for _, w := range strings.Fields(line) {
		emit(strings.ToLower(w))
	}
}

func formatCount(word string, count int) string { return fmt.Sprintf("%s: %d", word, count) }

func discard(string) {}

func init() {
	register.Function2x0(splitWords)
	register.Function2x0(lowerWords)
	register.Function2x1(formatCount)
	register.Function1x0(discard)
	register.Emitter1[string]()
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	lines := beam.Create(s, "the quick brown fox", "The lazy dog")
	split := splitWords
	if *lower {
		split = lowerWords
	}
	words := beam.ParDo(s.Scope("Split"), split, lines)
	counts := stats.Count(s.Scope("Count"), words)
	formatted := beam.ParDo(s.Scope("Format"), formatCount, counts)
	beam.ParDo0(s.Scope("Discard"), discard, formatted)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "wordcount:", err)
		os.Exit(1)
	}
}
