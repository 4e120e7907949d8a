package native_test

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// The side-input program (codegen/testdata/nativeside: a singleton, an iterable, a
// re-iterable and a multimap side input, read by function and struct DoFns) gives the
// same output with its stages native, side-input stages included, as portable.
func TestSideInputsNativeMatchesPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "nativeside"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"nativeside" + capture.GeneratedSuffix: generate(t, dir)})

	portable, msgs, portableCounters := runOnSluice(t, bin, loopback, "--words=300", "--sluice_native=false")
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	if len(portable) < 100 || !strings.Contains(portable[0], "!") {
		t.Fatalf("portable output: %d lines, first %q", len(portable), portable[0])
	}
	t.Logf("portable output: %d lines, e.g. %q", len(portable), portable[:3])
	for _, env := range []string{loopback, process} {
		native, msgs, counters := runOnSluice(t, bin, env, "--words=300")
		modes := stageModes(msgs)
		// s10 (Decorate: singleton, iterable and multimap) and s11 (Rank: singleton
		// through beam.T, re-iterable) read side inputs.
		if len(modes) != 7 || modes["s10"] != "native" || modes["s11"] != "native" {
			t.Errorf("%s: stage modes %v, want 7 SDK stages with s10 and s11 native; messages:\n%s", env, modes, strings.Join(msgs, "\n"))
		}
		for id, mode := range modes {
			if mode != "native" {
				t.Errorf("%s: stage %s runs %s", env, id, mode)
			}
		}
		if !slices.Equal(native, portable) {
			t.Errorf("%s: native output (%d lines) differs from portable output (%d lines):\nnative:   %q\nportable: %q", env, len(native), len(portable), native, portable)
		}
		if !maps.Equal(counters, portableCounters) || counters["decorated"] != 240 {
			t.Errorf("%s: native metrics %v, portable %v", env, counters, portableCounters)
		}
	}
}

// The windowed side-input program (codegen/testdata/nativewindowedside: side inputs in
// fixed, sliding and global windows, read from fixed and sliding main windows, and by a
// DoFn with user state) gives the same output native as portable: each
// element reads the side windows its own window maps to, once per window.
func TestWindowedSideInputsNativeMatchesPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "nativewindowedside"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"nativewindowedside" + capture.GeneratedSuffix: generate(t, dir)})

	portable, msgs, _ := runOnSluice(t, bin, loopback, "--sluice_native=false")
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	// Main window [10s, 20s) ends at 19.999s: the label of [0s, 20s), the marks of the
	// earliest sliding window holding that time, [-10s, 20s), and the weights of
	// [10s, 20s) (gamma's at 10s; delta's at 15s is a stop word's). Sliding main window
	// [-20s, 10s) reads the marks of sliding side window [-20s, 10s): 0 and 7.
	for _, want := range []string{
		"[10000:20000) gamma: label@0s marks=[0 7 14] weights=10/1",
		"sliding kappa: 2 marks summing to 7",
		"tally [10000:20000) gamma: second event under label@0s",
	} {
		if !slices.Contains(portable, want) {
			t.Errorf("portable output lacks %q", want)
		}
	}
	t.Logf("portable output: %d lines, e.g. %q", len(portable), portable[:3])
	for _, env := range []string{loopback, process} {
		native, msgs, _ := runOnSluice(t, bin, env)
		for id, mode := range stageModes(msgs) {
			if mode != "native" {
				t.Errorf("%s: stage %s runs %s; messages:\n%s", env, id, mode, strings.Join(msgs, "\n"))
			}
		}
		if !slices.Equal(native, portable) {
			t.Errorf("%s: native output (%d lines) differs from portable output (%d lines):\nnative:   %q\nportable: %q", env, len(native), len(portable), native, portable)
		}
	}
}
