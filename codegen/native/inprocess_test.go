package native_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/codegen/gen"
	"github.com/sluice-runner/sluice/codegen/rt"
)

const squaresN = 2000

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init() // the in-process pipeline's runner needs it; no test here runs as a worker
	os.Exit(m.Run())
}

func init() {
	register.Function2x0(emitInts)
	register.Function1x2(keyedSquare)
	register.Function2x1(checkSum)
	register.Emitter1[int]()
	register.Iter1[int]()
}

func emitInts(_ []byte, emit func(int)) {
	for i := 1; i <= squaresN; i++ {
		emit(i)
	}
}

func keyedSquare(i int) (int, int) { return 0, i * i }

// checkSum fails the job unless the squares of 1..squaresN all arrived, once.
func checkSum(_ int, squares func(*int) bool) error {
	n, sum, v := 0, 0, 0
	for squares(&v) {
		n, sum = n+1, sum+v
	}
	if want := squaresN * (squaresN + 1) * (2*squaresN + 1) / 6; n != squaresN || sum != want {
		return fmt.Errorf("got %d squares summing to %d, want %d summing to %d", n, sum, squaresN, want)
	}
	return nil
}

func squaresPipeline() *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	squares := beam.ParDo(s, keyedSquare, beam.ParDo(s, emitInts, beam.Impulse(s)))
	beam.ParDo0(s, checkSum, beam.GroupByKey(s, squares))
	return p
}

// The whole native path in this process, so that -race sees it: the Beam hook starts the
// native harness next to the SDK harness, the runner sends it the stage whose fingerprint
// it announces, and the chain (written here by hand, as sluicegen would, with the SDK's
// coders on its ports) feeds the portable stages downstream, which check what arrived; its user counter
// comes back in the job's metrics.
func TestNativeHarnessInProcess(t *testing.T) {
	c, err := capture.Record(context.Background(), squaresPipeline())
	if err != nil {
		t.Fatal(err)
	}
	a, err := gen.Analyze(c)
	if err != nil {
		t.Fatal(err)
	}
	var ran atomic.Int64
	for _, s := range a.Stages {
		if len(s.Transforms) == 2 && strings.HasSuffix(s.Transforms[1].Fn, "keyedSquare") {
			rt.RegisterStage(s.Fingerprint, squaresStage(s.Transforms[1].Name, &ran))
		}
	}
	if ran.Load() != 0 || len(rt.Fingerprints()) == 0 {
		t.Fatalf("no stage of emitInts and square in the plan:\n%s", a.Summary())
	}

	srv := startServer(t)
	*jobopts.Endpoint = srv.Endpoint()
	*jobopts.EnvironmentType = "LOOPBACK"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := universal.Execute(ctx, squaresPipeline())
	if err != nil {
		t.Fatalf("pipeline failed: %v", err)
	}
	if ran.Load() == 0 {
		t.Fatal("the native chain never ran: the stage went to the SDK harness")
	}
	var squares int64
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Key.Name == "squares" {
			squares += c.Committed
		}
	}
	if squares != squaresN {
		t.Errorf("native counter squares = %d, want %d", squares, squaresN)
	}
}

// squaresStage is a hand-written chain for the stage emitInts | keyedSquare.
func squaresStage(squareName string, ran *atomic.Int64) rt.StageFactory {
	return func(env rt.StageEnv) (rt.Stage, error) {
		tid, err := env.TransformID(squareName)
		if err != nil {
			return nil, err
		}
		out, err := env.OutputCoder(0)
		if err != nil {
			return nil, err
		}
		return &squares{tid: tid, codec: rt.NewSDKCodec(out), ran: ran}, nil
	}
}

type squares struct {
	tid   string
	codec *rt.SDKCodec
	ran   *atomic.Int64
}

func (*squares) Teardown() error { return nil }

func (s *squares) StartBundle(ctx context.Context, outs []*rt.Output) (rt.Bundle, error) {
	if len(outs) != 1 {
		return nil, fmt.Errorf("%d outputs, want 1", len(outs))
	}
	s.ran.Add(1)
	return &squaresBundle{s: s, ctx: rt.TransformContext(ctx, s.tid), out: outs[0]}, nil
}

type squaresBundle struct {
	s   *squares
	ctx context.Context
	out *rt.Output
	err error
}

var squaresCounter = beam.NewCounter("native", "squares")

func (b *squaresBundle) Process(h rt.Header, data []byte) (int, error) {
	_, n, err := rt.DecodeBytes(data)
	if err != nil {
		return 0, err
	}
	emitInts(nil, func(i int) {
		squaresCounter.Inc(b.ctx, 1)
		k, v := keyedSquare(i)
		buf, err := b.s.codec.Append(b.out.Begin(h), &exec.FullValue{Elm: k, Elm2: v})
		if err != nil && b.err == nil {
			b.err = err
		}
		b.out.End(buf)
	})
	if b.err != nil {
		return n, b.err
	}
	return n, b.out.Err()
}

func (b *squaresBundle) Finish() error { return nil }
