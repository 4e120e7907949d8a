package nexmark

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/direct"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// testEvents is the input size of the pipeline tests: about 6 s of event time, so the
// windowed queries see several windows, and enough for every query to have results.
const testEvents = 60_000

// runQuery runs query q over events 0 … n-1 on Beam's direct runner and returns its
// output lines.
func runQuery(t *testing.T, q int, cfg Config, n int64) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.txt")
	p, s := beam.NewPipelineWithRoot()
	lines, err := Query(s, q, cfg, Read(s, cfg, n))
	if err != nil {
		t.Fatal(err)
	}
	textio.Write(s, out, lines)
	if _, err := direct.Execute(context.Background(), p); err != nil {
		t.Fatalf("query %d: %v", q, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.TrimSuffix(string(b), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}

func TestQueriesMatchReference(t *testing.T) {
	cfg := DefaultConfig()
	// Shorter windows than the default 10 s so that 6 s of events span several of them.
	cfg.WindowSizeSec, cfg.WindowPeriodSec = 2, 1
	events := NewGenerator(cfg).Events(testEvents)
	for _, q := range Queries {
		t.Run(fmt.Sprintf("q%d", q), func(t *testing.T) {
			want, err := Reference(q, cfg, events)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatalf("reference of query %d is empty; the test input is too small", q)
			}
			got := Sorted(runQuery(t, q, cfg, testEvents))
			t.Logf("query %d: %d result lines", q, len(got))
			want = Sorted(want)
			if !slices.Equal(got, want) {
				t.Errorf("query %d: %d lines, reference %d; %s", q, len(got), len(want), firstDiff(got, want))
			}
		})
	}
}

func firstDiff(got, want []string) string {
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at sorted line %d: got %q, want %q", i+1, got[i], want[i])
		}
	}
	if len(got) > len(want) {
		return fmt.Sprintf("extra line %q", got[len(want)])
	}
	if len(got) < len(want) {
		return fmt.Sprintf("missing line %q", want[len(got)])
	}
	return "same lines"
}

func TestReferenceWindows(t *testing.T) {
	if got := slidingWindowStarts(12_345, 10_000, 5_000); !slices.Equal(got, []int64{10_000, 5_000}) {
		t.Errorf("sliding starts of 12345 = %v", got)
	}
	if got := slidingWindowStarts(10_000, 10_000, 5_000); !slices.Equal(got, []int64{10_000, 5_000}) {
		t.Errorf("sliding starts of 10000 = %v", got)
	}
	if got := fixedWindowStart(19_999, 10_000); got != 10_000 {
		t.Errorf("fixed start of 19999 = %d", got)
	}
	if _, err := Reference(6, DefaultConfig(), nil); err == nil {
		t.Error("Reference(6) succeeded")
	}
	p, s := beam.NewPipelineWithRoot()
	_ = p
	if _, err := Query(s, 9, DefaultConfig(), beam.Create(s, 1)); err == nil {
		t.Error("Query(9) succeeded")
	}
}

// TestQueryResultsNonTrivial guards against queries whose results are empty or all the
// same at the default configuration, which would make the benchmark comparison vacuous.
func TestQueryResultsNonTrivial(t *testing.T) {
	cfg := DefaultConfig()
	events := NewGenerator(cfg).Events(200_000) // 20 s of events: 2 fixed, 4 sliding windows
	for _, q := range Queries {
		lines, err := Reference(q, cfg, events)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) < 2 {
			t.Errorf("query %d: %d result lines over 200K events", q, len(lines))
		}
	}
}
