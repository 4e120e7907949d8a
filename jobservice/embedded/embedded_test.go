package embedded

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
)

func TestMain(m *testing.M) {
	// Parsing first lets this binary serve as a PROCESS worker too: with --worker set,
	// beam.Init runs the SDK harness instead of returning (see crash_test.go).
	flag.Parse()
	beam.Init()
	if f := flag.Lookup("worker"); f != nil && f.Value.String() == "true" {
		// beam.Init runs the harness and never returns in worker mode; a worker must
		// never go on to run the tests (each would start more workers).
		os.Exit(1)
	}
	os.Exit(m.Run())
}

var wordCounter = beam.NewCounter("sluice.test", "words")

func splitWords(ctx context.Context, line string, emit func(string)) {
	for _, w := range strings.Fields(line) {
		wordCounter.Inc(ctx, 1)
		emit(w)
	}
}

func formatCount(w string, n int) string { return fmt.Sprintf("%s: %d", w, n) }

func tagWithSideCount(w string, side []string, emit func(string)) {
	emit(fmt.Sprintf("%s/%d", w, len(side)))
}

func failOn(w string) (string, error) {
	if w == "boom" {
		return "", fmt.Errorf("refusing word %q", w)
	}
	return w, nil
}

func slowly(ctx context.Context, w string) string {
	select {
	case <-time.After(time.Minute):
	case <-ctx.Done():
	}
	return w
}

// fanOut emits n values of about 24 bytes under one key.
func fanOut(n int, emit func(string, string)) {
	for i := range n {
		emit("k", fmt.Sprintf("value-%018d", i))
	}
}

// countGroup checks that a group arrives whole and in one piece per key.
func countGroup(key string, values func(*string) bool) (string, int) {
	var v string
	n := 0
	for values(&v) {
		n++
	}
	return key, n
}

func init() {
	register.Function2x0(fanOut)
	register.Function2x2(countGroup)
	register.Emitter2[string, string]()
	register.Iter1[string]()
	register.Function3x0(splitWords)
	register.Function2x1(formatCount)
	register.Function3x0(tagWithSideCount)
	register.Function1x2(failOn)
	register.Function2x1(slowly)
	register.Emitter1[string]()
}

func startServer(t *testing.T) *Server { return startServerWith(t, "") }

// startServerWith starts a server with parallelism 2 and the given state backend ("" is
// the default) and shuts it down when the test ends.
func startServerWith(t *testing.T, backend string) *Server {
	t.Helper()
	srv, err := Start(Config{
		JobAddr:      "127.0.0.1:0",
		DataDir:      t.TempDir(),
		StateBackend: backend,
		Parallelism:  2,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv
}

// execute runs p on srv the way a user does: the universal runner in LOOPBACK mode.
func execute(t *testing.T, srv *Server, p *beam.Pipeline) (beam.PipelineResult, error) {
	t.Helper()
	*jobopts.Endpoint = srv.Endpoint()
	*jobopts.EnvironmentType = "LOOPBACK"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return universal.Execute(ctx, p)
}

func TestWordCountWithSideInputsAndMetrics(t *testing.T) {
	srv := startServer(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte("the cat\nthe dog\n\nthe end\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.txt")

	p, s := beam.NewPipelineWithRoot()
	words := beam.ParDo(s, splitWords, textio.Read(s, in))
	counts := beam.ParDo(s, formatCount, stats.Count(s, words))
	textio.Write(s, out, counts)
	passert.Equals(s, counts, "the: 3", "cat: 1", "dog: 1", "end: 1")
	side := beam.Create(s, "x", "y")
	tagged := beam.ParDo(s, tagWithSideCount, beam.Create(s, "a", "b"), beam.SideInput{Input: side})
	passert.Equals(s, beam.Flatten(s, tagged, beam.Create(s, "c/2")), "a/2", "b/2", "c/2")
	beam.GroupByKey(s, beam.ParDo(s, fanOut, beam.Create(s, 3))) // grouped, never read

	res, err := execute(t, srv, p)
	if err != nil {
		t.Fatalf("pipeline failed: %v", err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	sort.Strings(lines)
	if want := "cat: 1,dog: 1,end: 1,the: 3"; strings.Join(lines, ",") != want {
		t.Errorf("output = %q, want %q", lines, want)
	}
	var total int64
	for _, c := range res.Metrics().Query(func(r metrics.SingleResult) bool { return r.Name() == "words" }).Counters() {
		total += c.Result()
	}
	if total != 6 {
		t.Errorf("words counter = %d, want 6", total)
	}
}

// TestLargeGroup groups ~5 MB under one key: more than a group may carry inline, so the
// SDK reads the rest through the runner state API.
func TestLargeGroup(t *testing.T) {
	srv := startServer(t)
	p, s := beam.NewPipelineWithRoot()
	const n = 200_000
	kvs := beam.ParDo(s, fanOut, beam.Create(s, n))
	counts := beam.ParDo(s, countGroup, beam.GroupByKey(s, kvs))
	passert.Equals(s, beam.ParDo(s, formatCount, counts), fmt.Sprintf("k: %d", n))
	if _, err := execute(t, srv, p); err != nil {
		t.Fatalf("pipeline failed: %v", err)
	}
}

func TestFailingDoFnFailsTheJobAndServerKeepsServing(t *testing.T) {
	srv := startServer(t)
	p, s := beam.NewPipelineWithRoot()
	beam.ParDo(s, failOn, beam.Create(s, "fine", "boom"))
	_, err := execute(t, srv, p)
	if err == nil || !strings.Contains(err.Error(), `refusing word "boom"`) {
		t.Fatalf("pipeline error = %v, want the DoFn's error", err)
	}
	// The server still runs jobs.
	p, s = beam.NewPipelineWithRoot()
	passert.Equals(s, beam.Create(s, "ok"), "ok")
	if _, err := execute(t, srv, p); err != nil {
		t.Fatalf("second job failed: %v", err)
	}
}
