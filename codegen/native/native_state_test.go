package native_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// The user-state program (codegen/testdata/nativestate: value, bag, combining, map, set
// and ordered list state in the global window, value state per fixed window) gives the same output
// with its stateful stages native as portable: the native chains read and write user
// state over the State API as the SDK harness does.
func TestUserStateNativeMatchesPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "nativestate"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"nativestate" + capture.GeneratedSuffix: generate(t, dir)})

	portable, msgs, _ := runOnSluice(t, bin, loopback, "--events=300", "--sluice_native=false")
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	// 300 events: 6 lines each from Tally, one from WindowCount; 2 per user (7) from Order.
	if want := 300*7 + 2*7; len(portable) != want {
		t.Fatalf("portable output: %d lines, want %d", len(portable), want)
	}
	for _, want := range []string{"user0 count 43 true", "user0 recent 3", "user0 total 215", "user0 lengths 215/43", "user6 window 9999 count 1", "user0 window 9999 count 2",
		"user0 order 42 before, first 0:alpha 7:gamma 14:epsilon 21:theta 28:kappa 35:gamma 42:epsilon 49:eta 56:kappa", "user0 order 34 left, from 63 to 294"} {
		if !slices.Contains(portable, want) {
			t.Errorf("portable output lacks %q", want)
		}
	}
	for _, env := range []string{loopback, process} {
		native, msgs, _ := runOnSluice(t, bin, env, "--events=300")
		modes := stageModes(msgs)
		if len(modes) != 4 {
			t.Errorf("%s: stage modes %v, want 4 SDK stages; messages:\n%s", env, modes, strings.Join(msgs, "\n"))
		}
		for id, mode := range modes {
			if mode != "native" {
				t.Errorf("%s: stage %s runs %s", env, id, mode)
			}
		}
		if !slices.Equal(native, portable) {
			t.Errorf("%s: native output (%d lines) differs from portable output (%d lines):\nnative:   %q\nportable: %q", env, len(native), len(portable), native, portable)
		}
	}
}
