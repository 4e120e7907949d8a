package native_test

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// CombineFns with typed accumulators (codegen/testdata/nativecombine: a struct with every
// CombineFn method, a merge-only struct, and stats.MeanPerKey and stats.Mean, whose
// accumulator the generated file cannot name) run every SDK stage natively and give
// what they give with every stage portable, user metrics included.
func TestCombineFnsNative(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "nativecombine"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"nativecombine" + capture.GeneratedSuffix: generate(t, dir)})
	args := []string{"--numbers=5000"}
	portable, msgs, portableCounters := runOnSluice(t, bin, loopback, append(args, "--sluice_native=false")...)
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	if portableCounters["added"] != 5000 {
		t.Errorf("portable run: metrics %v, want added = 5000", portableCounters)
	}
	native, msgs, counters := runOnSluice(t, bin, loopback, args...)
	modes := stageModes(msgs)
	if len(modes) == 0 {
		t.Errorf("no stage modes in the messages:\n%s", strings.Join(msgs, "\n"))
	}
	for id, mode := range modes {
		if mode != "native" {
			t.Errorf("stage %s runs %s; messages:\n%s", id, mode, strings.Join(msgs, "\n"))
		}
	}
	if !maps.Equal(counters, portableCounters) {
		t.Errorf("native metrics %v, portable %v", counters, portableCounters)
	}
	t.Logf("stage modes %v, output %q", modes, native)
	// 7 digits of stats and of means, 5 bests, the global mean.
	if len(native) != 20 || !slices.Equal(native, portable) {
		t.Errorf("native output differs from portable output:\nnative:   %q\nportable: %q", native, portable)
	}
}
