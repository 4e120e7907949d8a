// Command sdf_offset_range emits the numbers 0..N-1 for each input N from a splittable
// DoFn over offset ranges (offsetrange.Restriction, split four ways up front; the runner
// may split further), then sums them per bucket (number mod 3) with stats.SumPerKey.
//
// Output, one line per bucket: "mod3=B SUM" over the inputs 10, 25, 100 and 1000.
// It is one of the `make modelcheck` pipelines (tools/modelcheck).
//
//	go run ./testdata/modelcheck/sdf_offset_range --output=/tmp/out.txt \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

func init() {
	register.DoFn3x0[*sdf.LockRTracker, int64, func(int64)](&rangeFn{})
	register.Emitter1[int64]()
	register.Function1x2(bucket)
	register.Function2x1(format)
}

// rangeFn emits 0..n-1 for an element n, one offset claimed at a time.
type rangeFn struct{}

func (fn *rangeFn) CreateInitialRestriction(n int64) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: n}
}

func (fn *rangeFn) SplitRestriction(_ int64, rest offsetrange.Restriction) []offsetrange.Restriction {
	return rest.EvenSplits(4)
}

func (fn *rangeFn) RestrictionSize(_ int64, rest offsetrange.Restriction) float64 {
	return rest.Size()
}

func (fn *rangeFn) CreateTracker(rest offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(rest))
}

func (fn *rangeFn) ProcessElement(rt *sdf.LockRTracker, n int64, emit func(int64)) {
	for i := rt.GetRestriction().(offsetrange.Restriction).Start; rt.TryClaim(i); i++ {
		emit(i)
	}
}

// bucket keys a number by its remainder mod 3.
func bucket(i int64) (string, int64) { return fmt.Sprintf("mod3=%d", i%3), i }

// format renders one bucket's sum.
func format(key string, sum int64) string { return fmt.Sprintf("%s %d", key, sum) }

func main() {
	flag.Parse()
	beam.Init()
	if *output == "" {
		fmt.Fprintln(os.Stderr, "sdf_offset_range: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	numbers := beam.ParDo(s, &rangeFn{}, beam.Create(s, int64(10), int64(25), int64(100), int64(1000)))
	buckets := beam.ParDo(s, bucket, numbers)
	sums := stats.SumPerKey(s, buckets)
	textio.Write(s, *output, beam.ParDo(s, format, sums))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "sdf_offset_range: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
