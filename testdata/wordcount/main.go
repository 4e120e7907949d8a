// Command wordcount is the example pipeline of `make run`: it counts the
// words of a text file with the Beam Go SDK and writes "word: count" lines.
//
// It runs on any Beam runner; against Sluice:
//
//	go run ./testdata/wordcount --input=testdata/wordcount/input.txt \
//	    --output=out/wordcount/counts \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
//
// A word is a run of ASCII letters with an optional one-letter contraction
// ("don't", "it's"); case is kept. The output file holds one line per
// distinct word, in no particular order.
//
// wordcount_sluice.go is what `go generate` writes here: Sluice runs every stage of
// the pipeline natively from it (the job's messages say so); any other runner ignores
// it. `make test` checks it is up to date.
package main

//go:generate go run github.com/sluice-runner/sluice/tools/sluicegen -- --input=input.txt

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var (
	input  = flag.String("input", "testdata/wordcount/input.txt", "text file (or glob) to count the words of")
	output = flag.String("output", "out/wordcount/counts", "file to write the \"word: count\" lines to")
)

// wordRE defines a word.
var wordRE = regexp.MustCompile(`[a-zA-Z]+('[a-z])?`)

func init() {
	// Registration lets a portable runner's SDK harness find the functions
	// by name and call them without reflection.
	register.Function2x0(splitWords)
	register.Function2x1(formatCount)
	register.Emitter1[string]()
}

// splitWords emits every word of a line.
func splitWords(line string, emit func(string)) {
	for _, w := range wordRE.FindAllString(line, -1) {
		emit(w)
	}
}

// formatCount renders one result line.
func formatCount(word string, count int) string {
	return fmt.Sprintf("%s: %d", word, count)
}

// countWords builds the pipeline: read lines, split into words, count per
// word, format, write.
func countWords(s beam.Scope, in, out string) {
	lines := textio.Read(s.Scope("Read"), in)
	words := beam.ParDo(s.Scope("SplitWords"), splitWords, lines)
	counted := stats.Count(s.Scope("CountWords"), words)
	formatted := beam.ParDo(s.Scope("Format"), formatCount, counted)
	textio.Write(s.Scope("Write"), out, formatted)
}

func main() {
	flag.Parse()
	beam.Init()
	if *input == "" || *output == "" {
		fmt.Fprintln(os.Stderr, "wordcount: --input and --output are required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	countWords(s, *input, *output)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "wordcount: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
