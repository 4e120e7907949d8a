// Command nativeside is a sluicegen test pipeline whose main stage reads side inputs in
// every form native chains cover: a singleton value, an iterable (func(*V) bool), a
// re-iterable (func() func(*V) bool) and a multimap (func(K) func(*V) bool), from
// function and struct DoFns, in the global window. It appends its results to --output
// (the native harness's end-to-end test compares them native and portable).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var (
	words  = flag.Int("words", 200, "how many words to make")
	output = flag.String("output", "", "file to append the result lines to")
)

var vocabulary = strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa")

// makeWords emits the main input: Words words chosen by a fixed rule.
type makeWordsFn struct {
	Words int
}

func (f *makeWordsFn) ProcessElement(_ []byte, emit func(string)) {
	for i := 0; i < f.Words; i++ {
		emit(vocabulary[(i*7+i/3)%len(vocabulary)])
	}
}

// makeWeights emits the multimap side input: several weights for some words, none for
// others.
func makeWeights(_ []byte, emit func(string, int)) {
	for i, w := range vocabulary {
		for j := 0; j < i%3; j++ {
			emit(w, 10*i+j)
		}
	}
}

// decorated counts decorate's outputs, so that the tests can check user metrics of a
// side-input stage.
var decorated = beam.NewCounter("nativeside", "decorated")

// decorate reads a singleton, an iterable and a multimap side input.
func decorate(ctx context.Context, w string, suffix string, stops func(*string) bool, weights func(string) func(*int) bool, emit func(string, int)) {
	var s string
	for stops(&s) {
		if s == w {
			return
		}
	}
	total, n := 0, 0
	iter := weights(w)
	var x int
	for iter(&x) {
		total += x
		n++
	}
	decorated.Inc(ctx, 1)
	emit(w+suffix, total*100+n)
}

// rankFn reads a re-iterable side input twice per element, and a singleton through a
// universal type.
type rankFn struct {
	Base int
}

func (f *rankFn) ProcessElement(w string, weight int, bonus beam.T, stops func() func(*string) bool) string {
	count := 0
	for range 2 {
		iter := stops()
		var s string
		for iter(&s) {
			if s < w {
				count++
			}
		}
	}
	return fmt.Sprintf("%s weight=%d below=%d bonus=%v base=%d", w, weight, count, bonus, f.Base)
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
	register.DoFn2x0[[]byte, func(string)](&makeWordsFn{})
	register.Function2x0(makeWeights)
	register.Function6x0(decorate)
	register.DoFn4x1[string, int, beam.T, func() func(*string) bool, string](&rankFn{})
	register.Function1x1(writeLine)
	register.Emitter1[string]()
	register.Emitter2[string, int]()
	register.Iter1[string]()
	register.Iter1[int]()
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	stops := []string{"delta", "iota"}
	sort.Strings(stops)
	suffix := beam.Create(s.Scope("Suffix"), "!")
	stopWords := beam.CreateList(s.Scope("Stops"), stops)
	weights := beam.ParDo(s.Scope("Weights"), makeWeights, beam.Impulse(s))
	bonus := beam.Create(s.Scope("Bonus"), 7)
	made := beam.ParDo(s.Scope("Words"), &makeWordsFn{Words: *words}, beam.Impulse(s))
	decoratedWords := beam.ParDo(s.Scope("Decorate"), decorate, made,
		beam.SideInput{Input: suffix}, beam.SideInput{Input: stopWords}, beam.SideInput{Input: weights})
	ranked := beam.ParDo(s.Scope("Rank"), &rankFn{Base: 3}, decoratedWords,
		beam.SideInput{Input: bonus}, beam.SideInput{Input: stopWords})
	beam.ParDo0(s.Scope("Write"), writeLine, ranked)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "nativeside:", err)
		os.Exit(1)
	}
}
