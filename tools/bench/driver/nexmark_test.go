package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestNexmarkWorkloads(t *testing.T) {
	for _, q := range []int{0, 1, 2, 3, 4, 5, 7, 8} {
		name := nexmarkPrefix + strconv.Itoa(q)
		w := findWorkload(name)
		if w == nil {
			t.Fatalf("no workload %s", name)
		}
		if w.pkg != "./testdata/nexmark" || !w.direct || w.capped {
			t.Errorf("%s = %+v", name, w)
		}
		if _, ok := flinkPerCore[name]; !ok {
			t.Errorf("%s has no Flink figure", name)
		}
		for _, quick := range []bool{false, true} {
			p, err := w.prepare(nil, quick)
			if err != nil {
				t.Fatal(err)
			}
			want := nexmarkEvents[q]
			if quick {
				want = nexmarkQuickEvents
			}
			if p.records != want || want <= 0 || !p.writesOutput || p.cleanup != nil {
				t.Errorf("%s quick=%v: %d records, want %d; %+v", name, quick, p.records, want, p)
			}
			args := p.args("/o/x.txt")
			if !slices.Equal(args, []string{"--query=" + strconv.Itoa(q), "--events=" + strconv.FormatInt(want, 10), "--output=/o/x.txt"}) {
				t.Errorf("%s args %q", name, args)
			}
		}
	}
}

func nexmarkResults() *Results {
	res := sampleResults()
	ok := func(s float64) RunResult { return RunResult{Run: 1, Seconds: s, OK: true, Log: "l"} }
	q5 := WorkloadResult{
		Name: "nexmark_q5", Records: 3_000_000, Input: "3M events (generated)",
		Sluice: &RunnerResult{Runner: runnerSluice, Available: true, Runs: []RunResult{ok(10)}},
		Prism:  &RunnerResult{Runner: runnerPrism, Available: true, Runs: []RunResult{ok(20)}},
		Direct: &RunnerResult{Runner: runnerDirect, Available: true, Runs: []RunResult{ok(15)}},
	}
	failed := WorkloadResult{
		Name: "nexmark_q8", Records: 100,
		Sluice: &RunnerResult{Runner: runnerSluice, Available: true, Runs: []RunResult{{Run: 1, ExitCode: 1, Error: "exit 1", Log: "x"}}},
		Prism:  &RunnerResult{Runner: runnerPrism, Available: true, Runs: []RunResult{ok(1)}},
		Direct: &RunnerResult{Runner: runnerDirect, Available: true, Runs: []RunResult{ok(1)}},
	}
	for _, w := range []*WorkloadResult{&q5, &failed} {
		w.summarize()
		res.Workloads = append(res.Workloads, *w)
	}
	return res
}

func TestNexmarkPerCore(t *testing.T) {
	if got := nexmarkPerCore(sampleResults()); len(got) != 0 {
		t.Errorf("per-core lines without Nexmark workloads: %q", got)
	}
	res := nexmarkResults()
	got := nexmarkPerCore(res)
	want := []string{
		"nexmark_q5: Sluice 150K events/s/core (3000000 events / 10.00 s / 2 CPUs); Flink (nexmark-flink, 8-core workers) 22.1K events/s/core",
		"nexmark_q8: Sluice: no completed run; Flink (nexmark-flink, 8-core workers) 146K events/s/core",
	}
	if !slices.Equal(got, want) {
		t.Errorf("per-core lines:\n%q\nwant\n%q", got, want)
	}
	var md, text strings.Builder
	renderMarkdown(&md, res)
	renderText(&text, res)
	for _, out := range []string{md.String(), text.String()} {
		for _, frag := range []string{want[0], "hardware and setup differ", "2 cores shared with other work", "LOOPBACK SDK harness"} {
			if !strings.Contains(out, frag) {
				t.Errorf("report lacks %q:\n%s", frag, out)
			}
		}
	}
	if !strings.Contains(md.String(), "## Nexmark per core") {
		t.Error("markdown lacks the Nexmark section")
	}
}

// TestPipelineBinaryShared checks that workloads of one package share one build, removed
// after the package's last workload.
func TestPipelineBinaryShared(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	fakeGo := filepath.Join(dir, "go")
	// Called as: go build -o BIN PKG.
	script := "#!/bin/sh\necho \"$4\" >> " + calls + "\necho binary > \"$3\"\n"
	if err := os.WriteFile(fakeGo, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	e := &env{opts: options{out: dir, goCmd: fakeGo}, stderr: io.Discard, builds: map[string]*pipelineBinary{}}
	names := []string{"nexmark_q0", "wordcount", "nexmark_q5"}
	for _, n := range names {
		e.pipeline(findWorkload(n)).users++
	}
	var paths []string
	for _, n := range names {
		w := findWorkload(n)
		p, err := e.binary(context.Background(), w)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: binary %s missing: %v", n, p, err)
		}
		paths = append(paths, p)
		e.release(w)
	}
	if paths[0] != paths[2] || paths[0] == paths[1] {
		t.Errorf("binaries %q: want the Nexmark workloads to share one", paths)
	}
	b, _ := os.ReadFile(calls)
	if got := strings.Fields(string(b)); !slices.Equal(got, []string{"./testdata/nexmark", "./testdata/wordcount"}) {
		t.Errorf("builds %q, want one per package", got)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s not removed after its last workload: %v", p, err)
		}
	}
}
