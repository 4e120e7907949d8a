package native_test

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// A CoGroupByKey of four inputs (testdata/cogbk: string, int and bytes values with typed
// coders, a struct value coded as a schema row by the SDK) runs its inject and expand
// steps natively, so every SDK stage of the program runs native, and it writes what it
// writes with every stage portable, with the same element counts.
func TestCoGroupByKeyNative(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "cogbk"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"cogbk" + capture.GeneratedSuffix: generate(t, dir)})

	args := []string{"--records=3000"}
	portable, msgs, portableCounters := runOnSluice(t, bin, loopback, append(args, "--sluice_native=false")...)
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	native, msgs, counters := runOnSluice(t, bin, loopback, args...)
	modes := stageModes(msgs)
	if len(modes) < 3 {
		t.Errorf("stage modes %v, want the injecting stages and the joining one; messages:\n%s", modes, strings.Join(msgs, "\n"))
	}
	for id, mode := range modes {
		if mode != "native" {
			t.Errorf("stage %s runs %s; messages:\n%s", id, mode, strings.Join(msgs, "\n"))
		}
	}
	if !maps.Equal(counters, portableCounters) {
		t.Errorf("native metrics %v, portable %v", counters, portableCounters)
	}
	if len(native) < 40 || !slices.Equal(native, portable) {
		t.Errorf("native output (%d lines) differs from portable output (%d lines):\nnative:   %q\nportable: %q", len(native), len(portable), native, portable)
	}
}
