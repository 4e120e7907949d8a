package native_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/codegen/gen"
)

// CombineFns with typed accumulators (codegen/testdata/nativecombine: a struct with every
// CombineFn method, a merge-only struct, and stats.MeanPerKey, stats.Mean and ratio's
// evenFn, whose accumulators the generated file cannot name) run every SDK stage natively and give
// what they give with every stage portable, user metrics included.
func TestCombineFnsNative(t *testing.T) {
	testCombineFns(t, nil)
}

// The same combines under a trigger other than the default, which the planner does not
// lift: each runs as a ParDo of its composite's expansion, natively. The stage holding
// the WindowInto that sets the trigger runs portably (WindowInto is not generated yet).
func TestUnliftedCombineFnsNative(t *testing.T) {
	testCombineFns(t, []string{"--triggered"}, "s1")
}

// testCombineFns runs codegen/testdata/nativecombine with flags, generated for them, native
// and portable: every stage but portableOK must run natively, and the runs agree.
func testCombineFns(t *testing.T, flags []string, portableOK ...string) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "nativecombine"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"nativecombine" + capture.GeneratedSuffix: generateFor(t, dir, flags...)})
	args := append([]string{"--numbers=5000"}, flags...)
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
		if mode != "native" && !slices.Contains(portableOK, id) {
			t.Errorf("stage %s runs %s; messages:\n%s", id, mode, strings.Join(msgs, "\n"))
		}
	}
	if !maps.Equal(counters, portableCounters) {
		t.Errorf("native metrics %v, portable %v", counters, portableCounters)
	}
	t.Logf("stage modes %v, output %q", modes, native)
	// 7 digits of stats, of means and of evens, 5 bests, the global mean.
	if len(native) != 27 || !slices.Equal(native, portable) {
		t.Errorf("native output differs from portable output:\nnative:   %q\nportable: %q", native, portable)
	}
}

// generateFor is generate for the program run with flags.
func generateFor(t *testing.T, dir string, flags ...string) string {
	t.Helper()
	if len(flags) == 0 {
		return generate(t, dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"--output=unused"}, flags...)
	c, err := capture.Run(ctx, capture.Options{Dir: dir, Package: "main", Args: args})
	if err != nil {
		t.Fatal(err)
	}
	a, err := gen.Analyze(c)
	if err != nil {
		t.Fatal(err)
	}
	src, err := gen.Generate(a, gen.Options{Package: "main", Args: args})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
