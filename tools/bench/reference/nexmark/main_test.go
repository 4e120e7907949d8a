package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-runner/sluice/tools/bench/nexmark"
)

// TestSameLinesAsTheReference: on any number of workers, over several chunks, the program
// writes the lines nexmark.Reference computes over the same events.
func TestSameLinesAsTheReference(t *testing.T) {
	const events = 2*chunkEvents + 123
	cfg := nexmark.DefaultConfig()
	all := nexmark.NewGenerator(cfg).Events(events)
	for _, q := range []int{0, 1, 2} {
		want, err := nexmark.Reference(q, cfg, all)
		if err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 3} {
			out := filepath.Join(t.TempDir(), "out")
			if err := run(q, events, out, workers); err != nil {
				t.Fatalf("query %d, %d workers: %v", q, workers, err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if !slices.Equal(nexmark.Sorted(got), nexmark.Sorted(want)) {
				t.Errorf("query %d, %d workers: %d lines differ from the reference's %d", q, workers, len(got), len(want))
			}
		}
	}
	if err := run(3, 10, filepath.Join(t.TempDir(), "out"), 1); err == nil {
		t.Error("query 3 ran; want an error: it keeps state across events")
	}
}
