// Command nativeforms is a sluicegen test pipeline made of the function DoFn forms native
// chains cover: a context and event time parameter, KV and several emitters, an emitter
// with an event time, (value, error) and (key, value, error) results, an event time
// result, a generic function over beam.T, and a merge-function combine (stats.Sum).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

func start(ctx context.Context, et beam.EventTime, _ []byte, words func(string), lengths func(beam.EventTime, int)) {
	for _, w := range []string{"a", "bb", "a"} {
		words(w)
		lengths(et+1, len(w))
	}
}

func keyed(w string) (string, int, error) {
	if w == "" {
		return "", 0, errors.New("empty word")
	}
	return w, 1, nil
}

func identity(v beam.T) beam.T { return v }

func stamp(et beam.EventTime, n int) (beam.EventTime, int) { return et + 1000, n }

func describe(w string, n int) (string, error) { return fmt.Sprintf("%s=%d", w, n), nil }

func upper(s string, emit func(string)) { emit(strings.ToUpper(s)) }

func discard(string) {}

func discardInt(int) error { return nil }

func init() {
	register.Function5x0(start)
	register.Function1x3(keyed)
	register.Function1x1(identity)
	register.Function2x2(stamp)
	register.Function2x2(describe)
	register.Function2x0(upper)
	register.Function1x0(discard)
	register.Function1x1(discardInt)
	register.Emitter1[string]()
	register.Emitter2[beam.EventTime, int]()
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	words, lengths := beam.ParDo2(s.Scope("Start"), start, beam.Impulse(s))
	beam.ParDo0(s.Scope("Lengths"), discardInt, beam.ParDo(s.Scope("Stamp"), stamp, lengths))
	same := beam.ParDo(s.Scope("Identity"), identity, words)
	sums := stats.SumPerKey(s.Scope("Sum"), beam.ParDo(s.Scope("Keyed"), keyed, same))
	described := beam.ParDo(s.Scope("Describe"), describe, sums)
	beam.ParDo0(s.Scope("Discard"), discard, beam.ParDo(s.Scope("Upper"), upper, described))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "nativeforms:", err)
		os.Exit(1)
	}
}
