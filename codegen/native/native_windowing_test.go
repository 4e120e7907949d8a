package native_test

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// Windowed stages (codegen/testdata/nativewindows: fixed, sliding and session windows, a
// lifted combine per key and window, a GroupByKey, DoFns taking their window, one of them
// called per window of sliding-windowed elements) run natively and write what they write
// portably, with the same element counts.
func TestNativeWindowsMatchesPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "nativewindows"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"nativewindows" + capture.GeneratedSuffix: generate(t, dir)})

	portable, msgs, portableCounters := runOnSluice(t, bin, loopback, "--events=700", "--sluice_native=false")
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	native, msgs, counters := runOnSluice(t, bin, loopback, "--events=700")
	modes := stageModes(msgs)
	for _, id := range []string{"s1", "s6", "s7", "s8", "s9"} {
		if modes[id] != "native" {
			t.Errorf("stage %s runs %q, want native; messages:\n%s", id, modes[id], strings.Join(msgs, "\n"))
		}
	}
	if !maps.Equal(counters, portableCounters) {
		t.Errorf("native metrics %v, portable %v", counters, portableCounters)
	}
	// Every branch wrote: fixed, sliding and session counts, and the grouped sums.
	for _, want := range []string{"grouped ", "[0:2000)", "[-2000:1000)", "ada: "} {
		if !slices.ContainsFunc(portable, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("portable output has no line with %q", want)
		}
	}
	if len(native) == 0 || !slices.Equal(native, portable) {
		t.Errorf("native output (%d lines) differs from portable output (%d lines):\nnative:   %q\nportable: %q", len(native), len(portable), native, portable)
	}
}

// Nexmark's windowed queries (q5 sliding windows, q7 and q8 fixed windows) run every SDK
// stage natively and write what they write portably: q5's and q7's last stages format
// accumulators the generated file cannot name (topAccum, topBids) with boxed ParDos.
func TestNexmarkWindowedQueriesMatchPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "nexmark"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, nil)
	for _, q := range []string{"5", "7", "8"} {
		args := []string{"--query=" + q, "--events=5000"}
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
	}
}
