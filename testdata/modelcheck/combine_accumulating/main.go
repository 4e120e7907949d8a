// Command combine_accumulating sums a TestStream of keyed values with CombinePerKey in
// the global window under Repeat(AfterCount(3)) in accumulating mode: every third
// element of a key fires a pane with the running sum, and the end of the stream (the
// watermark reaching infinity closes the global window) fires a last pane for a key
// only if it has elements not yet fired.
//
// The stream ("a:1" is value 1 of key a), one line per TestStream event:
//
//	a:1 a:2 a:3 b:10   a fires 6
//	a:4
//	a:5 a:6 b:20       a fires 21
//	b:30               b fires 60
//	a:7
//	watermark +inf     a fires 28; b has nothing new
//
// Output, one line per pane: "KEY SUM". It has no pane index or timing: the Go SDK's
// combine nodes (exec.Combine and the lifted ones, v2.77.0) emit their output without the
// pane of their input, so after CombinePerKey every element has the zero PaneInfo
// (early, index 0) on every runner.
// It is one of the `make modelcheck` pipelines (tools/modelcheck).
//
//	go run ./testdata/modelcheck/combine_accumulating --output=/tmp/out.txt \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window/trigger"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

func init() {
	register.Function1x2(parseKV)
	register.Function2x1(add)
	register.Function3x0(formatSum)
	register.Emitter1[string]()
}

// parseKV splits "key:value".
func parseKV(s string) (string, int) {
	k, v, _ := strings.Cut(s, ":")
	n, err := strconv.Atoi(v)
	if err != nil {
		panic(fmt.Sprintf("bad element %q: %v", s, err))
	}
	return k, n
}

// add is the combine function.
func add(a, b int) int { return a + b }

// formatSum renders one fired sum.
func formatSum(key string, sum int, emit func(string)) {
	emit(fmt.Sprintf("%s %d", key, sum))
}

// stream is the TestStream described in the package comment.
func stream() teststream.Config {
	c := teststream.NewConfig()
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(c.AddElements(1000, "a:1", "a:2", "a:3", "b:10"))
	must(c.AddElements(2000, "a:4"))
	must(c.AddElements(3000, "a:5", "a:6", "b:20"))
	must(c.AddElements(4000, "b:30"))
	must(c.AddElements(5000, "a:7"))
	must(c.AdvanceWatermarkToInfinity())
	return c
}

func main() {
	flag.Parse()
	beam.Init()
	if *output == "" {
		fmt.Fprintln(os.Stderr, "combine_accumulating: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	kvs := beam.ParDo(s, parseKV, teststream.Create(s, stream()))
	triggered := beam.WindowInto(s, window.NewGlobalWindows(), kvs,
		beam.Trigger(trigger.Repeat(trigger.AfterCount(3))),
		beam.PanesAccumulate(),
	)
	sums := beam.CombinePerKey(s, add, triggered)
	lines := beam.ParDo(s, formatSum, sums)
	// Back to the default trigger, so that textio writes its file once, at the end.
	textio.Write(s, *output, beam.WindowInto(s, window.NewGlobalWindows(), lines))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "combine_accumulating: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
