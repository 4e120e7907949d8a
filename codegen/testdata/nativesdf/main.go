// Command nativesdf is a sluicegen test pipeline of bounded splittable DoFns every SDK
// stage of which runs natively: textio.Read (fileio's match and read, then textio's
// splittable readFn) and rangeFn, a splittable DoFn of this package over an offset range
// split in Splits parts, each number emitted at its own event time; both written with
// textio.Write, whose DoFn iterates over the grouped lines.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var (
	input  = flag.String("input", "input.txt", "text file to read")
	output = flag.String("output", "out", "file to write the upper-cased lines to (numbers to <output>.nums)")
	count  = flag.Int64("count", 10, "how many numbers rangeFn makes")
)

// span is rangeFn's element: the numbers [0, N).
type span struct {
	N int64
}

// rangeFn emits the numbers of its span, each at event time 1000+n. Stop makes it give up
// early (leaving its restriction unfinished) at that number, when positive.
type rangeFn struct {
	Splits int64
	Stop   int64
}

func (fn *rangeFn) CreateInitialRestriction(sp span) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: sp.N}
}

func (fn *rangeFn) SplitRestriction(_ span, rest offsetrange.Restriction) []offsetrange.Restriction {
	return rest.EvenSplits(fn.Splits)
}

func (fn *rangeFn) RestrictionSize(_ span, rest offsetrange.Restriction) float64 {
	return rest.Size()
}

func (fn *rangeFn) CreateTracker(ctx context.Context, rest offsetrange.Restriction) (*sdf.LockRTracker, error) {
	if ctx == nil {
		return nil, fmt.Errorf("CreateTracker without a context")
	}
	return sdf.NewLockRTracker(offsetrange.NewTracker(rest)), nil
}

func (fn *rangeFn) ProcessElement(ctx context.Context, rt *sdf.LockRTracker, _ span, emit func(beam.EventTime, int64)) error {
	for n := rt.GetRestriction().(offsetrange.Restriction).Start; rt.TryClaim(n); n++ {
		if fn.Stop > 0 && n == fn.Stop {
			return nil
		}
		emit(beam.EventTime(1000+n), n)
	}
	return nil
}

func formatNum(n int64) string { return fmt.Sprint(n) }

func init() {
	register.DoFn4x1[context.Context, *sdf.LockRTracker, span, func(beam.EventTime, int64), error](&rangeFn{})
	register.Emitter2[beam.EventTime, int64]()
	register.Function1x1(formatNum)
	register.Function1x1(strings.ToUpper)
}

// build adds the pipeline to s: tests build it too, with other configurations.
func build(s beam.Scope, in, out string, n int64, fn *rangeFn) {
	lines := textio.Read(s.Scope("Read"), in)
	textio.Write(s.Scope("Write"), out, beam.ParDo(s.Scope("Upper"), strings.ToUpper, lines))
	nums := beam.ParDo(s.Scope("Range"), fn, beam.Create(s.Scope("Spans"), span{N: n}))
	textio.Write(s.Scope("WriteNums"), out+".nums", beam.ParDo(s.Scope("Format"), formatNum, nums))
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	build(s, *input, *output, *count, &rangeFn{Splits: 3})
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "nativesdf:", err)
		os.Exit(1)
	}
}
