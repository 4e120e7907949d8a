// Command cogbk is the native harness's end-to-end CoGroupByKey pipeline: records made
// from --records numbers go to four keyed PCollections whose values have typed coders
// (strings, ints, bytes) and none (a struct, coded as a schema row by the SDK), joined
// per key by one CoGroupByKey and written to --output, one line per key. The join takes
// its inputs as iterators (once through), and keys may miss some inputs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var (
	records = flag.Int("records", 1000, "how many records to make")
	output  = flag.String("output", "", "file to write the joined lines to (required)")
)

// Point is a value without a typed coder: the SDK codes it as a schema row.
type Point struct {
	X, Y int
	Tag  string
}

func init() {
	register.Function2x0(names)
	register.Function2x0(scores)
	register.Function2x0(tags)
	register.Function2x0(points)
	register.Function6x0(join)
	register.Emitter2[string, string]()
	register.Emitter2[string, int]()
	register.Emitter2[string, []byte]()
	register.Emitter2[string, Point]()
	register.Emitter1[string]()
	register.Iter1[string]()
	register.Iter1[int]()
	register.Iter1[[]byte]()
	register.Iter1[Point]()
}

func key(i, m int) string { return fmt.Sprintf("k%03d", i%m) }

func names(i int, emit func(string, string)) { emit(key(i, 37), fmt.Sprintf("name%d", i)) }

func scores(i int, emit func(string, int)) {
	if i%3 != 0 {
		emit(key(i, 41), i*7%100-50)
	}
}

func tags(i int, emit func(string, []byte)) {
	if i%5 == 0 {
		emit(key(i, 43), []byte{byte(i), byte(i >> 8), 0})
	}
}

func points(i int, emit func(string, Point)) {
	if i%2 == 0 {
		emit(key(i, 29), Point{X: i, Y: -i, Tag: strings.Repeat("p", i%4)})
	}
}

// join writes a key's values per input, sorted (a group's order is the runner's), and
// its scores' total. It reads the names twice: the second pass finds nothing, as the SDK
// hands grouped values once through.
func join(k string, ns func(*string) bool, ss func(*int) bool, ts func(*[]byte) bool, ps func(*Point) bool, emit func(string)) {
	var n, t, p []string
	var sc []int
	total := 0
	for v := range iter(ns) {
		n = append(n, v)
	}
	again := 0
	for range iter(ns) {
		again++
	}
	for v := range iter(ss) {
		sc = append(sc, v)
		total += v
	}
	for v := range iter(ts) {
		t = append(t, fmt.Sprintf("%x", v))
	}
	for v := range iter(ps) {
		p = append(p, fmt.Sprintf("%d/%d/%s", v.X, v.Y, v.Tag))
	}
	slices.Sort(n)
	slices.Sort(sc)
	slices.Sort(t)
	slices.Sort(p)
	emit(fmt.Sprintf("%s names=%v again=%d scores=%v total=%d tags=%v points=%v", k, n, again, sc, total, t, p))
}

// iter ranges over an iterator parameter.
func iter[V any](next func(*V) bool) func(func(V) bool) {
	return func(yield func(V) bool) {
		var v V
		for next(&v) {
			if !yield(v) {
				return
			}
		}
	}
}

func main() {
	flag.Parse()
	beam.Init()
	if *output == "" {
		fmt.Fprintln(os.Stderr, "cogbk: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	nums := make([]int, *records)
	for i := range nums {
		nums[i] = i
	}
	in := beam.CreateList(s, nums)
	joined := beam.CoGroupByKey(s.Scope("Join"),
		beam.ParDo(s, names, in), beam.ParDo(s, scores, in), beam.ParDo(s, tags, in), beam.ParDo(s, points, in))
	textio.Write(s, *output, beam.ParDo(s, join, joined))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "cogbk:", err)
		os.Exit(1)
	}
}
