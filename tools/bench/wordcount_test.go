//go:build bench

package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/sluice-runner/sluice/jobservice/embedded"
	"github.com/sluice-runner/sluice/tools/bench/textgen"
)

func TestMain(m *testing.M) {
	// prism logs through the default logger to stdout, which would garble the benchmark lines.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	beam.Init()
	os.Exit(m.Run())
}

// wordRE is the word definition of testdata/wordcount.
var wordRE = regexp.MustCompile(`[a-zA-Z]+('[a-z])?`)

func splitWords(line string, emit func(string)) {
	for _, w := range wordRE.FindAllString(line, -1) {
		emit(w)
	}
}

func formatCount(word string, count int) string { return fmt.Sprintf("%s: %d", word, count) }

func init() {
	register.Function2x0(splitWords)
	register.Function2x1(formatCount)
	register.Emitter1[string]()
}

// wordCount is testdata/wordcount's pipeline.
func wordCount(in, out string) *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	lines := textio.Read(s.Scope("Read"), in)
	words := beam.ParDo(s.Scope("SplitWords"), splitWords, lines)
	counted := stats.Count(s.Scope("CountWords"), words)
	textio.Write(s.Scope("Write"), out, beam.ParDo(s.Scope("Format"), formatCount, counted))
	return p
}

var (
	inputOnce sync.Once
	inputPath string
	inputErr  error
)

// input writes the deterministic text once per process.
func input(b *testing.B) (string, int64) {
	mb := 50
	if v := os.Getenv("SLUICE_BENCH_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("bad SLUICE_BENCH_MB %q", v)
		}
		mb = n
	}
	inputOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-bench")
		if err != nil {
			inputErr = err
			return
		}
		inputPath = filepath.Join(dir, fmt.Sprintf("input-%dmb.txt", mb))
		f, err := os.Create(inputPath)
		if err != nil {
			inputErr = err
			return
		}
		defer f.Close()
		inputErr = textgen.Write(f, int64(mb)<<20, 1)
	})
	if inputErr != nil {
		b.Fatal(inputErr)
	}
	st, err := os.Stat(inputPath)
	if err != nil {
		b.Fatal(err)
	}
	return inputPath, st.Size()
}

func runOn(b *testing.B, endpoint, in string) {
	b.Helper()
	*jobopts.Endpoint = endpoint
	*jobopts.EnvironmentType = "LOOPBACK"
	out := filepath.Join(b.TempDir(), "counts")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := universal.Execute(ctx, wordCount(in, out)); err != nil {
		b.Fatal(err)
	}
}

var (
	prismOnce     sync.Once
	prismEndpoint string
	prismErr      error
)

// startPrism starts Beam's prism job server in this process (it has no stop; it ends
// with the benchmark binary).
func startPrism(b *testing.B) string {
	prismOnce.Do(func() {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			prismErr = err
			return
		}
		port := lis.Addr().(*net.TCPAddr).Port
		lis.Close()
		if _, err := prism.CreateJobServer(context.Background(), prism.Options{Port: port}); err != nil {
			prismErr = err
			return
		}
		prismEndpoint = fmt.Sprintf("localhost:%d", port)
	})
	if prismErr != nil {
		b.Fatal(prismErr)
	}
	return prismEndpoint
}

// BenchmarkWordCount counts the words of a generated text on Sluice and on prism, and with
// a plain Go program doing the same work (the limit a runner can approach).
func BenchmarkWordCount(b *testing.B) {
	b.Run("sluice", func(b *testing.B) {
		in, size := input(b)
		srv, err := embedded.Start(embedded.Config{
			JobAddr: "127.0.0.1:0",
			DataDir: b.TempDir(),
			Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Shutdown(context.Background())
		b.SetBytes(size)
		b.ResetTimer()
		for range b.N {
			runOn(b, srv.Endpoint(), in)
		}
	})
	b.Run("prism", func(b *testing.B) {
		in, size := input(b)
		ep := startPrism(b)
		b.SetBytes(size)
		b.ResetTimer()
		for range b.N {
			runOn(b, ep, in)
		}
	})
	b.Run("plain-go", func(b *testing.B) {
		in, size := input(b)
		b.SetBytes(size)
		for range b.N {
			if err := plainWordCount(in, filepath.Join(b.TempDir(), "counts")); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// plainWordCount is the hand-written reference: one goroutine, a map, the same regexp.
func plainWordCount(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		for _, w := range wordRE.FindAllString(sc.Text(), -1) {
			counts[w]++
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(o)
	for word, n := range counts {
		fmt.Fprintln(w, formatCount(word, n))
	}
	if err := w.Flush(); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}
