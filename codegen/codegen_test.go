package codegen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/codegen/gen"
)

// Captures compile programs, so they are built once per test binary and shared by every
// test; each (program, flags, run) is captured once.
var (
	mu       sync.Mutex
	programs = map[string]*capture.Program{}
	captures = map[string]*capture.Capture{}
	vetted   = map[string]error{}
)

// captureTimeout bounds each build and each capture run.
const captureTimeout = 3 * time.Minute

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	for _, p := range programs {
		p.Close()
	}
	os.Exit(code)
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("captures build and run pipeline programs")
	}
}

// program builds testdata/<name> with the capture overlay, once.
func program(t *testing.T, name string) *capture.Program {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if p, ok := programs[name]; ok {
		return p
	}
	start := time.Now()
	p, err := capture.Build(context.Background(), capture.Options{Dir: filepath.Join("testdata", name), Package: "main", Timeout: captureTimeout})
	if err != nil {
		t.Fatalf("building %s: %v", name, err)
	}
	t.Logf("built %s with the capture overlay in %v", name, time.Since(start).Round(time.Millisecond))
	programs[name] = p
	return p
}

// captureOf captures testdata/<name> run with args; run numbers separate processes, so
// run 0 and run 1 of the same flags are two independent captures.
func captureOf(t *testing.T, name string, run int, args ...string) *capture.Capture {
	t.Helper()
	p := program(t, name)
	key := fmt.Sprintf("%s\x00%d\x00%s", name, run, strings.Join(args, "\x00"))
	mu.Lock()
	defer mu.Unlock()
	if c, ok := captures[key]; ok {
		return c
	}
	c, err := p.Capture(context.Background(), args)
	if err != nil {
		t.Fatalf("capturing %s %v: %v", name, args, err)
	}
	captures[key] = c
	return c
}

func analyze(t *testing.T, c *capture.Capture) *gen.Analysis {
	t.Helper()
	a, err := gen.Analyze(c)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestGolden runs testdata/<name>/golden.txt for every test program. Regenerate with
//
//	go test ./codegen -run TestGolden -rewrite
//
// Directives (input lines, if any, are the pipeline's flags):
//
//	capture        captures the program (the script's current capture); prints its summary
//	plan           prints the current capture's stages, fingerprints and edges
//	generate       prints the generated file, after checking that it is gofmt-clean, that a
//	               second, independent capture generates the same bytes, and that it
//	               compiles and vets in the program's package
//	fingerprints   captures again in a new process and prints, per SDK stage, whether its
//	               fingerprint is the same as the current capture's
func TestGolden(t *testing.T) {
	skipShort(t)
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "golden.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no testdata/*/golden.txt")
	}
	for _, path := range dirs {
		name := filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			var cur *capture.Capture
			var curArgs []string
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				args := inputArgs(d.Input)
				need := func() {
					if cur == nil {
						d.Fatalf(t, "%s needs a capture first", d.Cmd)
					}
				}
				switch d.Cmd {
				case "capture":
					cur, curArgs = captureOf(t, name, 0, args...), args
					return cur.Summary()
				case "plan":
					need()
					return analyze(t, cur).Summary()
				case "generate":
					need()
					src := generate(t, cur, curArgs)
					if formatted, err := format.Source(src); err != nil || !bytes.Equal(formatted, src) {
						t.Errorf("generated file is not gofmt-clean (err %v)", err)
					}
					again := generate(t, captureOf(t, name, 1, curArgs...), curArgs)
					if !bytes.Equal(src, again) {
						t.Errorf("a second capture generated different bytes:\n%s", again)
					}
					if err := vet(name, src); err != nil {
						t.Errorf("go vet of the generated file in its package: %v", err)
					}
					return string(src)
				case "fingerprints":
					need()
					return compareFingerprints(analyze(t, cur), analyze(t, captureOf(t, name, 1, args...)))
				}
				d.Fatalf(t, "unknown directive %q", d.Cmd)
				return ""
			})
		})
	}
}

func inputArgs(input string) []string {
	var args []string
	for _, l := range strings.Split(input, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			args = append(args, l)
		}
	}
	return args
}

func generate(t *testing.T, c *capture.Capture, args []string) []byte {
	t.Helper()
	src, err := gen.Generate(analyze(t, c), gen.Options{Package: "main", Args: args})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// vet runs go vet on testdata/<name> with the generated file added through an overlay:
// the file must compile in the package it is generated for, and vet clean (with the
// package's tests, which may call it). Once per program.
func vet(name string, src []byte) error {
	mu.Lock()
	defer mu.Unlock()
	if err, ok := vetted[name]; ok {
		return err
	}
	err := withGenerated(name, src, "vet", ".")
	vetted[name] = err
	return err
}

// withGenerated runs the go command in testdata/<name> with the generated file added
// through an overlay, as <name>_sluice.go.
func withGenerated(name string, src []byte, args ...string) error {
	dir, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "sluicegen-vet-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	genFile := filepath.Join(tmp, "gen.go")
	if err := os.WriteFile(genFile, src, 0o644); err != nil {
		return err
	}
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(dir, name+"_sluice.go"): genFile}})
	overlayFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), captureTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{args[0], "-overlay=" + overlayFile}, args[1:]...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

// TestNativeChainsRun runs the chains generated for testdata/nativecount,
// testdata/nativestructs, testdata/nativesdf, testdata/nativewindows and
// testdata/nativekeys: each package's own test (chains_test.go)
// looks them up by fingerprint, feeds them encoded elements and checks what they write,
// with the generated file added through an overlay.
func TestNativeChainsRun(t *testing.T) {
	skipShort(t)
	for _, name := range []string{"nativecount", "nativestructs", "nativesdf", "nativewindows", "nativekeys"} {
		t.Run(name, func(t *testing.T) {
			src := generate(t, captureOf(t, name, 0), nil)
			if err := withGenerated(name, src, "test", "-count=1", "."); err != nil {
				t.Errorf("running the generated chains: %v", err)
			}
		})
	}
}

// compareFingerprints lines up the SDK stages of two analyses by stage id.
func compareFingerprints(a, b *gen.Analysis) string {
	fa, fb := a.Fingerprints(), b.Fingerprints()
	ids := map[string]bool{}
	for id := range fa {
		ids[id] = true
	}
	for id := range fb {
		ids[id] = true
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	var lines []string
	for _, id := range sorted {
		switch {
		case fa[id] == "" || fb[id] == "":
			lines = append(lines, fmt.Sprintf("%s only in one capture: %q %q", id, fa[id], fb[id]))
		case fa[id] == fb[id]:
			lines = append(lines, fmt.Sprintf("%s same %s", id, fa[id]))
		default:
			lines = append(lines, fmt.Sprintf("%s changed %s -> %s", id, fa[id], fb[id]))
		}
	}
	return strings.Join(lines, "\n")
}

// TestFingerprintsStableAcrossCaptures captures each program twice, in two processes: the
// fingerprints must be identical (and so must the generated files, see TestGolden).
func TestFingerprintsStableAcrossCaptures(t *testing.T) {
	skipShort(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"wordcount", nil},
		{"join", []string{"--min-total=10"}},
		{"stateful", nil},
		{"nativecount", nil},
		{"nativestructs", nil},
		{"nativesdf", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca, cb := captureOf(t, tc.name, 0, tc.args...), captureOf(t, tc.name, 1, tc.args...)
			ba, err := capture.Marshal(ca)
			if err != nil {
				t.Fatal(err)
			}
			bb, err := capture.Marshal(cb)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ba, bb) {
				t.Error("two captures of the same program are not byte-identical")
			}
			a := analyze(t, ca).Fingerprints()
			b := analyze(t, cb).Fingerprints()
			if len(a) == 0 {
				t.Fatal("no SDK stages")
			}
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("two captures of the same program gave different fingerprints:\n%v\n%v", a, b)
			}
		})
	}
}

// TestChangingADoFnChangesOnlyItsStage: wordcount --lower splits with another function;
// only the stage holding the split step may change fingerprint. And join's --min-total
// only configures its DoFn: no fingerprint changes.
func TestChangingADoFnChangesOnlyItsStage(t *testing.T) {
	skipShort(t)
	base := analyze(t, captureOf(t, "wordcount", 0))
	lower := analyze(t, captureOf(t, "wordcount", 1, "--lower"))
	split := ""
	for _, s := range base.Stages {
		for _, tr := range s.Transforms {
			if strings.HasPrefix(tr.Name, "Split/") {
				split = s.ID
			}
		}
	}
	if split == "" {
		t.Fatal("no stage holds the Split step")
	}
	fa, fb := base.Fingerprints(), lower.Fingerprints()
	if len(fa) != len(fb) || len(fa) < 2 {
		t.Fatalf("stages differ: %v vs %v", fa, fb)
	}
	for id, fp := range fa {
		switch {
		case id == split && fb[id] == fp:
			t.Errorf("stage %s holds the changed DoFn but kept fingerprint %s", id, fp)
		case id != split && fb[id] != fp:
			t.Errorf("stage %s does not hold the changed DoFn but its fingerprint moved: %s -> %s", id, fp, fb[id])
		}
	}

	j10 := analyze(t, captureOf(t, "join", 0, "--min-total=10")).Fingerprints()
	j20 := analyze(t, captureOf(t, "join", 1, "--min-total=20")).Fingerprints()
	if fmt.Sprint(j10) != fmt.Sprint(j20) {
		t.Errorf("a DoFn's configuration changed fingerprints:\n%v\n%v", j10, j20)
	}
}
