package native_test

import (
	"context"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// Lifted combines on keys told apart by their encoding (codegen/testdata/nativekeys:
// float32 keys with -0, +0 and two NaNs, a row-coded struct key, a custom coder that codes
// unequal keys alike, a struct key the generated file cannot name, the struct key in
// fixed windows) run every SDK stage natively and write what they write portably, with
// the same element counts (a precombine that told keys apart otherwise would hand on
// more or fewer partials).
func TestCombineKeysNative(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "nativekeys"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"nativekeys" + capture.GeneratedSuffix: generate(t, dir)})
	portable, msgs, portableCounters := runOnSluice(t, bin, loopback, "--events=700", "--sluice_native=false")
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	native, msgs, counters := runOnSluice(t, bin, loopback, "--events=700")
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
	// -0 and +0 are two keys (and two zones), the two NaNs two more; the tags the
	// custom coder codes alike are one key per name; every branch wrote.
	for _, want := range []string{"float32 -0 (80000000)", "float32 0 (00000000)", "float32 NaN (7fc00000)", "float32 NaN (7fc00001)",
		"tag red (decoded)", "tag blue (decoded)", `region "fr"/"paris"`, `[0:2000) region "jp"/"osaka"`,
		"zone 0 true", "zone 0 false", "zone -1 false"} {
		if !slices.ContainsFunc(portable, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("portable output has no line with %q:\n%s", want, strings.Join(portable, "\n"))
		}
	}
	t.Logf("stage modes %v, %d lines, counters %v", modes, len(native), counters)
	if len(native) == 0 || !slices.Equal(native, portable) {
		t.Errorf("native output (%d lines) differs from portable output (%d lines):\nnative:   %q\nportable: %q", len(native), len(portable), native, portable)
	}
}

// A precombine on float64 keys stays portable: the Go SDK's lifted combine fails on them
// (exec.makeElementHasher has no hasher for the double coder), and so does the job, with
// the file generated for the pipeline.
func TestCombineDoubleKeysFailAsInTheSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "nativekeys"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildWith(t, dir, map[string]string{"nativekeys" + capture.GeneratedSuffix: generateFor(t, dir, "--doubles")})
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--output="+filepath.Join(t.TempDir(), "out"), "--runner=universal",
		"--endpoint="+srv.Endpoint(), "--environment_type="+loopback, "--events=50", "--doubles")
	log, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the job succeeded, want it to fail as the SDK fails:\n%s", log)
	}
	msgs, _ := jobOutcome(t, srv.Endpoint())
	all := string(log) + "\n" + strings.Join(msgs, "\n")
	if !strings.Contains(all, "its key float64 (double): the Go SDK's lifted combine fails on it") {
		t.Errorf("the messages do not say why stage s1 runs portably:\n%s", all)
	}
	// The job fails with the SDK's panic ("Unexpected coder for hashing: double") or,
	// when the runner's failed send of the bundle's input is reported first, without it.
	t.Logf("SDK's panic reported: %v", strings.Contains(all, "Unexpected coder for hashing: double"))
	if modes := stageModes(msgs); modes["s1"] != "portable" {
		t.Errorf("stage s1 runs %q, want portable; messages:\n%s", modes["s1"], all)
	}
}
