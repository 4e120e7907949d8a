package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func okRun(secs float64, lines ...string) runResult {
	return runResult{ran: true, seconds: secs, lines: lines}
}

func TestDiffSorted(t *testing.T) {
	got := diffSorted([]string{"a", "b", "b", "d"}, []string{"b", "c", "d", "e"})
	want := []string{"- a", "- b", "+ c", "+ e"}
	if !slices.Equal(got, want) {
		t.Errorf("diffSorted = %q, want %q", got, want)
	}
	if d := diffSorted([]string{"x"}, []string{"x"}); d != nil {
		t.Errorf("equal lists: %q", d)
	}
}

func TestEvaluate(t *testing.T) {
	p := &pipeline{name: "p", expected: []string{"a 1", "b 2"}}
	known := &pipeline{name: "k", expected: []string{"a 1"}, prism: []string{"a 1", "a 1"}}
	timedOut := runResult{ran: true, seconds: 120, timedOut: true, err: errors.New("timed out after 2m0s and was killed")}
	for _, tc := range []struct {
		name                string
		r                   pipelineResult
		sluice, prism, same string
		failures, diffs     int
	}{
		{"all ok", pipelineResult{p: p, sluice: okRun(1, "a 1", "b 2"), prism: okRun(2, "a 1", "b 2")},
			"ok 1.0s", "ok 2.0s", "yes", 0, 0},
		{"sluice differs", pipelineResult{p: p, sluice: okRun(1, "a 1", "b 2", "b 2"), prism: okRun(2, "a 1", "b 2")},
			"DIFFERS 1.0s", "ok 2.0s", "no", 1, 2},
		{"sluice times out", pipelineResult{p: p, sluice: timedOut, prism: okRun(2, "a 1", "b 2")},
			"TIMED OUT 120.0s", "ok 2.0s", "-", 1, 0},
		{"sluice server does not start", pipelineResult{p: p, sluice: runResult{err: errors.New("start sluice server: boom")}, prism: okRun(2, "a 1", "b 2")},
			"FAILED", "ok 2.0s", "-", 1, 0},
		{"prism failed", pipelineResult{p: p, sluice: okRun(1, "a 1", "b 2"), prism: runResult{ran: true, seconds: 3, err: errors.New("exit status 1")}},
			"ok 1.0s", "prism failed", "-", 0, 0},
		{"prism differs", pipelineResult{p: p, sluice: okRun(1, "a 1", "b 2"), prism: okRun(2, "a 1")},
			"ok 1.0s", "DIFFERS 2.0s", "no", 1, 1},
		{"prism's known deviation", pipelineResult{p: known, sluice: okRun(1, "a 1"), prism: okRun(2, "a 1", "a 1")},
			"ok 1.0s", "known deviation 2.0s", "no", 0, 0},
		{"prism's deviation changed", pipelineResult{p: known, sluice: okRun(1, "a 1"), prism: okRun(2, "a 2")},
			"ok 1.0s", "DIFFERS 2.0s", "no", 1, 1},
		{"sluice only", pipelineResult{p: p, sluice: okRun(1, "a 1", "b 2"), prismSkipped: true},
			"ok 1.0s", "skipped", "-", 0, 0},
		{"sluice only, differs", pipelineResult{p: p, sluice: okRun(1, "a 1"), prismSkipped: true},
			"DIFFERS 1.0s", "skipped", "-", 1, 1},
		{"sluice and prism agree on a wrong result", pipelineResult{p: p, sluice: okRun(1, "a 1"), prism: okRun(2, "a 1")},
			"DIFFERS 1.0s", "DIFFERS 2.0s", "yes", 2, 2},
		{"build failed", pipelineResult{p: p, buildErr: errors.New("go build: syntax error")},
			"not run", "not run", "-", 1, 0},
	} {
		ev := evaluate(&tc.r)
		if ev.sluice != tc.sluice || ev.prism != tc.prism || ev.same != tc.same || len(ev.failures) != tc.failures || len(ev.diffs) != tc.diffs {
			t.Errorf("%s: got cells %q | %q | %q, %d failures %q, %d diffs; want %q | %q | %q, %d failures, %d diffs",
				tc.name, ev.sluice, ev.prism, ev.same, len(ev.failures), ev.failures, len(ev.diffs),
				tc.sluice, tc.prism, tc.same, tc.failures, tc.diffs)
		}
	}
}

func TestReport(t *testing.T) {
	results := []*pipelineResult{
		{p: &pipeline{name: "sessions", expected: []string{"a 6"}}, sluice: okRun(0.5, "a 6"), prism: okRun(0.4, "a 6")},
		{p: &pipeline{name: "panes", expected: []string{"k 1", "k 2"}}, sluice: okRun(1.25, "k 1", "k 2", "k 2"), prism: okRun(0.75, "k 1", "k 2")},
	}
	results[0].sluice.note = "sluice server did not stop cleanly: killed"
	var b strings.Builder
	if failed := report(&b, results); failed != 1 {
		t.Errorf("report counted %d failed pipelines, want 1", failed)
	}
	want := `
pipeline | sluice       | prism   | same? | check
---------+--------------+---------+-------+------
sessions | ok 0.5s      | ok 0.4s | yes   | pass
panes    | DIFFERS 1.2s | ok 0.8s | no    | FAIL

sessions:
  note sluice server did not stop cleanly: killed

panes:
  FAIL sluice: output differs from expected.txt
  sluice vs expected.txt (sorted lines; - only in the first, + only in the second):
    + k 2
  sluice vs prism (sorted lines; - only in the first, + only in the second):
    + k 2
`
	if got := b.String(); got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
}
