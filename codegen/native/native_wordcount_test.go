package native_test

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/codegen/gen"
	"github.com/sluice-runner/sluice/jobservice/embedded"
)

// The repository's word count (testdata/wordcount: textio.Read, a splittable DoFn, then
// split, count, format and textio.Write, whose DoFn iterates over grouped lines) runs
// every SDK stage natively, and writes what it writes with every stage portable.
func TestWordcountAllNative(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "wordcount"))
	if err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(dir, "input.txt")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := capture.Run(ctx, capture.Options{Dir: dir, Package: "main", Args: []string{"--input=" + input, "--output=unused"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := gen.Analyze(c)
	if err != nil {
		t.Fatal(err)
	}
	var sdk []string
	for _, s := range a.Stages {
		if s.Kind != "sdk" {
			continue
		}
		sdk = append(sdk, s.ID)
		if !s.Native {
			t.Errorf("stage %s is not native: %s", s.ID, s.Why)
		}
	}
	src, err := gen.Generate(a, gen.Options{Package: "main"})
	if err != nil {
		t.Fatal(err)
	}
	generated := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(generated, src, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"wordcount" + capture.GeneratedSuffix: generated})

	portable, msgs, portableMetrics := runOnSluice(t, bin, loopback, "--input="+input, "--sluice_native=false")
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	native, msgs, metrics := runOnSluice(t, bin, loopback, "--input="+input)
	// How many partial sums a lifted combine emits depends on how its input fell into
	// bundles (which splits change), on any runner; every other count is the data's.
	partial := func(k string, _ int64) bool { return strings.HasSuffix(k, "/partial") }
	maps.DeleteFunc(metrics, partial)
	maps.DeleteFunc(portableMetrics, partial)
	if !maps.Equal(metrics, portableMetrics) {
		t.Errorf("native metrics %v, portable %v", metrics, portableMetrics)
	}
	modes := stageModes(msgs)
	for _, id := range sdk {
		if modes[id] != "native" {
			t.Errorf("stage %s runs %q, want native; messages:\n%s", id, modes[id], strings.Join(msgs, "\n"))
		}
	}
	if len(native) < 100 || !slices.Equal(native, portable) {
		t.Errorf("native output (%d lines) differs from portable output (%d lines)", len(native), len(portable))
	}
}

// Nexmark queries 0-4 (testdata/nexmark, with its committed generated file, one variant per
// query, which `make test` checks is current) run every SDK stage natively and give what
// they give with every stage portable (query 3 and 4 join with a CoGroupByKey of two
// inputs; query 4 averages with a struct CombineFn whose accumulator the generated file
// cannot name). Query 0 writes 40,000 lines, about 1.7 MB in textio.Write's one group: the
// runner parks that group's blocks, and the chain reads them as it iterates
// (runner/worker GroupBuffer.ParkBlocks, codegen/rt.Values).
func TestNexmarkQueriesNative(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "nexmark"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, nil)
	for _, q := range []string{"0", "1", "2", "3", "4"} {
		events := "5000"
		if q == "0" {
			events = "40000"
		}
		args := []string{"--query=" + q, "--events=" + events}
		portable, _, _ := runOnSluice(t, bin, loopback, append(args, "--sluice_native=false")...)
		native, msgs, _ := runOnSluice(t, bin, loopback, args...)
		modes := stageModes(msgs)
		if len(modes) == 0 {
			t.Errorf("query %s: no stage modes in the messages:\n%s", q, strings.Join(msgs, "\n"))
		}
		for id, mode := range modes {
			if mode != "native" {
				t.Errorf("query %s: stage %s runs %s; messages:\n%s", q, id, mode, strings.Join(msgs, "\n"))
			}
		}
		if len(native) == 0 || !slices.Equal(native, portable) {
			t.Errorf("query %s: native output (%d lines) differs from portable output (%d lines)", q, len(native), len(portable))
		}
		if q != "0" && q != "4" {
			continue
		}
		// With a small inline limit, most of a large group stays in the runner's store and
		// the native stage reads it from there as it iterates: q0's one group
		// (textio.Write), q4's join of a hot auction's bids (a CoGroupByKey).
		var log syncBuffer
		srv := startServer(t, func(c *embedded.Config) {
			c.NativeGroupInlineBytes = 512
			c.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		})
		stateBacked, _, _ := runOn(t, srv, bin, loopback, args...)
		if !slices.Equal(stateBacked, portable) {
			t.Errorf("query %s, groups past 512 bytes in runner state: native output (%d lines) differs from portable output (%d lines)", q, len(stateBacked), len(portable))
		}
		if !strings.Contains(log.String(), "from runner state") {
			t.Errorf("query %s, groups past 512 bytes in runner state: the server did not log a group read from runner state", q)
		}
	}
}

// syncBuffer is a bytes.Buffer the server may log to from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
