// Command nativewindowedside is a sluicegen test pipeline whose ParDos read side inputs in
// windows: the main input in fixed 10s windows reads a singleton in fixed 20s windows, an
// iterable in sliding windows (30s every 10s: the earliest window holding the end of the
// main window is read), a multimap in fixed 10s windows and an iterable in the global
// window; a second ParDo, in sliding main windows (an element in three windows), is
// called once per window; a third keeps user state per word and window, with a side
// input. It appends its results to --output (the native harness's end-to-end test
// compares them native and portable).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var (
	events = flag.Int("events", 120, "how many main input events to make, one a second")
	output = flag.String("output", "", "file to append the result lines to")
)

var vocabulary = strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa")

// makeEventsFn emits the main input: Events words, one a second.
type makeEventsFn struct {
	Events int
}

func (f *makeEventsFn) ProcessElement(_ []byte, emit func(beam.EventTime, string)) {
	for i := 0; i < f.Events; i++ {
		emit(beam.EventTime(int64(i)*1000), vocabulary[(i*7+i/3)%len(vocabulary)])
	}
}

// makeLabels emits one label every 20 seconds, at its start: the singleton of each fixed
// 20s window.
func makeLabels(_ []byte, emit func(beam.EventTime, string)) {
	for t := int64(0); t < 200; t += 20 {
		emit(beam.EventTime(t*1000), fmt.Sprintf("label@%ds", t))
	}
}

// makeMarks emits a number every 7 seconds: the iterable, in sliding windows.
func makeMarks(_ []byte, emit func(beam.EventTime, int)) {
	for t := int64(0); t < 200; t += 7 {
		emit(beam.EventTime(t*1000), int(t))
	}
}

// makeWeights emits weights of some words every 5 seconds: the multimap.
func makeWeights(_ []byte, emit func(beam.EventTime, string, int)) {
	for t := int64(0); t < 200; t += 5 {
		w := vocabulary[(t/5)%int64(len(vocabulary))]
		emit(beam.EventTime(t*1000), w, int(t))
	}
}

// describe reads the four side inputs in the element's window.
func describe(w beam.Window, word string, label string, marks func(*int) bool, weights func(string) func(*int) bool, stops func(*string) bool, emit func(string)) {
	var s string
	for stops(&s) {
		if s == word {
			return
		}
	}
	var ms []int
	var m int
	for marks(&m) {
		ms = append(ms, m)
	}
	sort.Ints(ms)
	total, n := 0, 0
	it := weights(word)
	var x int
	for it(&x) {
		total += x
		n++
	}
	emit(fmt.Sprintf("%v %s: %s marks=%v weights=%d/%d", w, word, label, ms, total, n))
}

// countMarksFn reads the sliding-windowed iterable from sliding main windows: called once
// per window of an element.
type countMarksFn struct {
	Prefix string
}

func (f *countMarksFn) ProcessElement(word string, marks func(*int) bool) string {
	n, sum := 0, 0
	var m int
	for marks(&m) {
		n++
		sum += m
	}
	return fmt.Sprintf("%s %s: %d marks summing to %d", f.Prefix, word, n, sum)
}

// tallyFn counts a word's events per window in user state and reports its second one,
// with the window's label from a side input. (A DoFn with timers and side inputs fails in
// the Go SDK: exec hands OnTimer the side inputs too.)
type tallyFn struct {
	Count state.Value[int]
}

func (f *tallyFn) ProcessElement(w beam.Window, sp state.Provider, word string, one int, label string, emit func(string)) error {
	n, _, err := f.Count.Read(sp)
	if err != nil {
		return err
	}
	if n+one == 2 {
		emit(fmt.Sprintf("tally %v %s: second event under %s", w, word, label))
	}
	return f.Count.Write(sp, n+one)
}

// keyOne makes a word a KV for tallyFn.
func keyOne(word string) (string, int) { return word, 1 }

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
	register.DoFn2x0[[]byte, func(beam.EventTime, string)](&makeEventsFn{})
	register.Function2x0(makeLabels)
	register.Function2x0(makeMarks)
	register.Function2x0(makeWeights)
	register.Function7x0(describe)
	register.DoFn2x1[string, func(*int) bool, string](&countMarksFn{})
	register.DoFn6x1[beam.Window, state.Provider, string, int, string, func(string), error](&tallyFn{})
	register.Function1x2(keyOne)
	register.Function1x1(writeLine)
	register.Emitter1[string]()
	register.Emitter2[beam.EventTime, string]()
	register.Emitter2[beam.EventTime, int]()
	register.Emitter3[beam.EventTime, string, int]()
	register.Iter1[string]()
	register.Iter1[int]()
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	impulse := beam.Impulse(s)
	labels := beam.WindowInto(s.Scope("LabelWindows"), window.NewFixedWindows(sec(20)), beam.ParDo(s.Scope("Labels"), makeLabels, impulse))
	marks := beam.WindowInto(s.Scope("MarkWindows"), window.NewSlidingWindows(sec(10), sec(30)), beam.ParDo(s.Scope("Marks"), makeMarks, impulse))
	weights := beam.WindowInto(s.Scope("WeightWindows"), window.NewFixedWindows(sec(10)), beam.ParDo(s.Scope("Weights"), makeWeights, impulse))
	stops := beam.Create(s.Scope("Stops"), "delta", "iota")
	evs := beam.ParDo(s.Scope("Events"), &makeEventsFn{Events: *events}, impulse)

	fixed := beam.WindowInto(s.Scope("Fixed"), window.NewFixedWindows(sec(10)), evs)
	described := beam.ParDo(s.Scope("Describe"), describe, fixed,
		beam.SideInput{Input: labels}, beam.SideInput{Input: marks}, beam.SideInput{Input: weights}, beam.SideInput{Input: stops})
	sliding := beam.WindowInto(s.Scope("Sliding"), window.NewSlidingWindows(sec(10), sec(30)), evs)
	counted := beam.ParDo(s.Scope("Count"), &countMarksFn{Prefix: "sliding"}, sliding, beam.SideInput{Input: marks})
	tallied := beam.ParDo(s.Scope("Tally"), &tallyFn{Count: state.MakeValueState[int]("count")},
		beam.ParDo(s.Scope("Key"), keyOne, fixed), beam.SideInput{Input: labels})
	toGlobal := func(name string, col beam.PCollection) beam.PCollection {
		return beam.WindowInto(s.Scope(name), window.NewGlobalWindows(), col)
	}
	all := beam.Flatten(s, toGlobal("GlobalDescribed", described), toGlobal("GlobalCounted", counted), toGlobal("GlobalTallied", tallied))
	beam.ParDo0(s.Scope("Write"), writeLine, all)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "nativewindowedside:", err)
		os.Exit(1)
	}
}
