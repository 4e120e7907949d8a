// Command nativecombine is a sluicegen test pipeline of CombineFns with typed
// accumulators, every SDK stage of which runs natively: statsFn (a configured pointer
// struct with every CombineFn method, context parameters and error results, Setup,
// Teardown and Compact), bestFn (a value struct with only MergeAccumulators, its
// accumulator a struct), and the SDK's stats.MeanPerKey and stats.Mean (a struct of
// package stats with an unexported accumulator: the generated file cannot name either),
// per key and global, and ratio's evenFn (an unexported accumulator, contexts and
// errors). It appends its results to --output, one line each. With
// --triggered the same combines run unlifted (see the flag).
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window/trigger"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/sluice-runner/sluice/codegen/testdata/nativecombine/internal/ratio"
)

var (
	numbers = flag.Int("numbers", 1000, "how many numbers to combine")
	output  = flag.String("output", "", "file to append the results to (required)")
	// With --triggered the combines' input has a trigger other than the default one:
	// the planner does not lift them, and the SDK combines each key's grouped values.
	triggered = flag.Bool("triggered", false, "combine under an AfterEndOfWindow trigger")
)

func init() {
	register.DoFn2x0[[]byte, func(int64)](&makeNumbersFn{})
	// register.Combiner3 does not take methods with contexts and errors: the SDK calls
	// statsFn's through reflection.
	beam.RegisterType(reflect.TypeOf((*statsFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf(StatsAcc{}))
	register.Combiner1[Best](&bestFn{})
	register.Function1x2(keyByDigit)
	register.Function1x2(toBest)
	register.Function2x1(formatStats)
	register.Function2x1(formatBest)
	register.Function2x1(formatMean)
	register.Function1x1(formatGlobalMean)
	register.Function1x1(writeLine)
	register.Emitter1[int64]()
}

// makeNumbersFn emits 0, ..., N-1.
type makeNumbersFn struct {
	N int
}

func (f *makeNumbersFn) ProcessElement(_ []byte, emit func(int64)) {
	for i := range f.N {
		emit(int64(i))
	}
}

func keyByDigit(v int64) (string, int64) { return fmt.Sprintf("digit%d", v%7), v }

// StatsAcc is statsFn's accumulator: an exported struct of main, coded as a row by the
// SDK's coder on the stages' ports.
type StatsAcc struct {
	Count, Sum, Min, Max int64
}

// added counts statsFn's inputs, so that the tests can check user metrics.
var added = beam.NewCounter("nativecombine", "added")

// statsFn sums, counts and bounds its inputs times Scale, and labels the result.
type statsFn struct {
	Scale int64
	Label string

	ready bool // set by Setup: not configuration
}

func (f *statsFn) Setup(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("Setup without a context")
	}
	f.ready = true
	return nil
}

func (f *statsFn) CreateAccumulator(ctx context.Context) (StatsAcc, error) {
	if !f.ready {
		return StatsAcc{}, fmt.Errorf("statsFn is not set up")
	}
	return StatsAcc{Min: math.MaxInt64, Max: math.MinInt64}, nil
}

func (f *statsFn) AddInput(ctx context.Context, a StatsAcc, v int64) (StatsAcc, error) {
	added.Inc(ctx, 1)
	if v < 0 {
		return a, fmt.Errorf("negative input %d", v)
	}
	v *= f.Scale
	return StatsAcc{Count: a.Count + 1, Sum: a.Sum + v, Min: min(a.Min, v), Max: max(a.Max, v)}, nil
}

func (f *statsFn) MergeAccumulators(ctx context.Context, a, b StatsAcc) (StatsAcc, error) {
	return StatsAcc{Count: a.Count + b.Count, Sum: a.Sum + b.Sum, Min: min(a.Min, b.Min), Max: max(a.Max, b.Max)}, nil
}

func (f *statsFn) ExtractOutput(ctx context.Context, a StatsAcc) (string, error) {
	if a.Count == 0 {
		return "", fmt.Errorf("an empty accumulator")
	}
	return fmt.Sprintf("%s n=%d sum=%d min=%d max=%d", f.Label, a.Count, a.Sum, a.Min, a.Max), nil
}

// Compact is never called by the Go SDK: it is here so that the chain is seen not to.
func (f *statsFn) Compact(a StatsAcc) StatsAcc { return a }

func (f *statsFn) Teardown() error {
	f.ready = false
	return nil
}

// Best is a word and its score: bestFn's accumulator, input and output.
type Best struct {
	Word  string
	Score int64
}

// bestFn keeps the best of its Bests: the highest score, the first word on a tie.
type bestFn struct{}

func (bestFn) MergeAccumulators(a, b Best) Best {
	if b.Score > a.Score || b.Score == a.Score && b.Word < a.Word {
		return b
	}
	return a
}

func toBest(v int64) (int64, Best) {
	return v % 5, Best{Word: fmt.Sprintf("w%03d", v%37), Score: v % 101}
}

func formatStats(key, stats string) string { return key + ": " + stats }

func formatBest(key int64, b Best) string {
	return fmt.Sprintf("best%d: %s %d", key, b.Word, b.Score)
}

func formatMean(key string, mean float64) string { return fmt.Sprintf("mean %s: %g", key, mean) }

func formatGlobalMean(mean float64) string { return fmt.Sprintf("mean: %g", mean) }

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
		fmt.Fprintln(os.Stderr, "nativecombine: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	nums := beam.ParDo(s.Scope("Numbers"), &makeNumbersFn{N: *numbers}, beam.Impulse(s))
	if *triggered {
		nums = beam.WindowInto(s.Scope("Trigger"), window.NewGlobalWindows(), nums,
			beam.Trigger(trigger.AfterEndOfWindow()), beam.PanesDiscard())
	}
	keyed := beam.ParDo(s.Scope("Key"), keyByDigit, nums)
	st := beam.CombinePerKey(s.Scope("Stats"), &statsFn{Scale: 3, Label: "x3"}, keyed)
	beam.ParDo0(s.Scope("WriteStats"), writeLine, beam.ParDo(s, formatStats, st))
	best := beam.CombinePerKey(s.Scope("Best"), bestFn{}, beam.ParDo(s.Scope("ToBest"), toBest, nums))
	beam.ParDo0(s.Scope("WriteBest"), writeLine, beam.ParDo(s, formatBest, best))
	means := stats.MeanPerKey(s.Scope("MeanPerKey"), keyed)
	beam.ParDo0(s.Scope("WriteMeans"), writeLine, beam.ParDo(s, formatMean, means))
	evens := ratio.EvenPerKey(s, "even", keyed)
	beam.ParDo0(s.Scope("WriteEvens"), writeLine, beam.ParDo(s, formatStats, evens))
	mean := stats.Mean(s.Scope("Mean"), nums)
	beam.ParDo0(s.Scope("WriteMean"), writeLine, beam.ParDo(s, formatGlobalMean, mean))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "nativecombine: %v\n", err)
		os.Exit(1)
	}
}
