package native_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// The timers program (codegen/testdata/nativetimers: event-time timers per user and
// fixed window, tagged timers set from OnTimer, timers cleared) gives the same output
// with its stateful stage native as portable: the native harness fires the runner's
// timers and sends back those its bundles set, as the SDK harness does.
func TestTimersNativeMatchesPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "nativetimers"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"nativetimers" + capture.GeneratedSuffix: generate(t, dir)})

	portable, msgs, _ := runOnSluice(t, bin, loopback, "--events=300", "--sluice_native=false")
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	for _, want := range []string{"user0 flush 2 in window ending 9999, at 9999", "user0 again after2 2", "user1 never alpha", "user3 flush 1 in window ending 9999, at 9999", "user0 flush 1 in window ending 19999, at 19999", "user3 again after1 1"} {
		if !slices.Contains(portable, want) {
			t.Errorf("portable output lacks %q", want)
		}
	}
	for _, line := range portable {
		if strings.HasPrefix(line, "user2 never") || strings.HasPrefix(line, "user5 never") {
			t.Errorf("portable output has %q, a cleared timer's", line)
		}
	}
	t.Logf("portable output: %d lines, e.g. %q", len(portable), portable[:3])

	for _, env := range []string{loopback, process} {
		native, msgs, _ := runOnSluice(t, bin, env, "--events=300")
		modes := stageModes(msgs)
		if len(modes) != 2 {
			t.Errorf("%s: stage modes %v, want 2 SDK stages; messages:\n%s", env, modes, strings.Join(msgs, "\n"))
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

// The processing-time timers program (codegen/testdata/nativeproctimers: a flush a second
// after each key's first element) gives the same output native as portable.
func TestProcessingTimersNativeMatchesPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "nativeproctimers"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"nativeproctimers" + capture.GeneratedSuffix: generate(t, dir)})
	want := []string{"a 3 flush", "b 2 flush", "c 1 flush"}
	portable, msgs, _ := runOnSluice(t, bin, loopback, "--sluice_native=false")
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	if !slices.Equal(portable, want) {
		t.Fatalf("portable output %q, want %q", portable, want)
	}
	for _, env := range []string{loopback, process} {
		native, msgs, _ := runOnSluice(t, bin, env)
		modes := stageModes(msgs)
		if len(modes) != 2 {
			t.Errorf("%s: stage modes %v, want 2 SDK stages; messages:\n%s", env, modes, strings.Join(msgs, "\n"))
		}
		for id, mode := range modes {
			if mode != "native" {
				t.Errorf("%s: stage %s runs %s", env, id, mode)
			}
		}
		if !slices.Equal(native, portable) {
			t.Errorf("%s: native output %q, portable %q", env, native, portable)
		}
	}
}
