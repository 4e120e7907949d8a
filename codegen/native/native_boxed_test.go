package native_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// DoFns over a type the generated file cannot name (codegen/testdata/nativeboxed: tally's
// unexported score, made by a registered function, picked from grouped values by an
// unregistered one, passed on by beam.DropKey and formatted by an unexported struct DoFn,
// emitted through a universal emitter and formatted by a function of universal values)
// run every SDK stage natively, through the SDK's callers, and give what they give with
// every stage portable.
func TestBoxedDoFnsNative(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "nativeboxed"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"nativeboxed" + capture.GeneratedSuffix: generate(t, dir)})
	args := []string{"--words=3000"}
	portable, msgs, _ := runOnSluice(t, bin, loopback, append(args, "--sluice_native=false")...)
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	native, msgs, _ := runOnSluice(t, bin, loopback, args...)
	modes := stageModes(msgs)
	if len(modes) == 0 {
		t.Errorf("no stage modes in the messages:\n%s", strings.Join(msgs, "\n"))
	}
	for id, mode := range modes {
		if mode != "native" {
			t.Errorf("stage %s runs %s; messages:\n%s", id, mode, strings.Join(msgs, "\n"))
		}
	}
	t.Logf("stage modes %v, output %q", modes, native)
	// One best word and one count per first letter.
	if len(native) != 52 || !slices.Equal(native, portable) {
		t.Errorf("native output differs from portable output:\nnative:   %q\nportable: %q", native, portable)
	}
}
