package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sampleResults is a report with one clean workload (direct n/a), one with a failed
// Sluice run and one with a disagreeing output.
func sampleResults() *Results {
	res := &Results{
		Started:       time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC),
		Finished:      time.Date(2026, 11, 25, 16, 5, 0, 0, time.UTC),
		Mode:          "full",
		RunsPerRunner: 3,
		Host:          Host{OS: "linux", Arch: "amd64", CPUs: 2, GoVersion: "go1.26"},
		Caveat:        caveat,
	}
	ok := func(i int, s float64) RunResult {
		return RunResult{Run: i, Seconds: s, OK: true, PipelinePeakRSSMB: 50 + float64(i), PipelineCPUSeconds: s * 1.5, Log: "l"}
	}
	gbk := WorkloadResult{
		Name: "group_by_key", Records: 1_000_000, Input: "1M × 100 B",
		Sluice: &RunnerResult{Runner: runnerSluice, Available: true, Runs: []RunResult{ok(1, 10), ok(2, 12), ok(3, 11)}, ServerPeakRSSMB: ptr(120.0)},
		Prism:  &RunnerResult{Runner: runnerPrism, Available: true, Runs: []RunResult{ok(1, 40), ok(2, 44), ok(3, 41)}, ServerPeakRSSMB: ptr(900.4)},
		Direct: &RunnerResult{Runner: runnerDirect, Available: false, Runs: []RunResult{}},
	}
	pardo := WorkloadResult{
		Name: "pardo", Records: 100, Input: "100 × 100 B", Capped: true,
		Sluice: &RunnerResult{Runner: runnerSluice, Available: true, Runs: []RunResult{ok(1, 2), {Run: 2, Seconds: 120, ExitCode: -1, TimedOut: true, Error: "timed out", Log: "x.log"}}},
		Prism:  &RunnerResult{Runner: runnerPrism, Available: true, Runs: []RunResult{ok(1, 4), ok(2, 4)}},
		Direct: &RunnerResult{Runner: runnerDirect, Available: true, Runs: []RunResult{ok(1, 1), ok(2, 3)}},
	}
	differs := ok(1, 5)
	differs.OK, differs.OutputMatches, differs.Error = false, ptr(false), "vs prism run 1: 2 lines, want 3"
	wc := WorkloadResult{
		Name: "wordcount", Records: 1000, Input: "5 MiB text (lines)",
		Sluice:       &RunnerResult{Runner: runnerSluice, Available: true, Runs: []RunResult{differs}},
		Prism:        &RunnerResult{Runner: runnerPrism, Available: true, Runs: []RunResult{ok(1, 10)}},
		Direct:       &RunnerResult{Runner: runnerDirect, Available: true, Runs: []RunResult{ok(1, 20)}},
		Handwritten:  &RunnerResult{Runner: runnerHandwritten, Available: true, Runs: []RunResult{ok(1, 2)}},
		Native:       &RunnerResult{Runner: runnerNative, Available: true, Runs: []RunResult{ok(1, 2.5)}},
		NativeStages: "3/3",
	}
	gbk.Native, gbk.NativeStages = &RunnerResult{Runner: runnerNative, Available: false, Runs: []RunResult{}}, "0/2"
	skipped := WorkloadResult{Name: "cogbk", Status: statusSkipped}
	skipped.fail("not run: an earlier workload failed (use --keep-going)")
	for _, w := range []*WorkloadResult{&gbk, &pardo, &wc, &skipped} {
		w.summarize()
		w.summarize() // idempotent
		res.Workloads = append(res.Workloads, *w)
	}
	return res
}

func TestSummarize(t *testing.T) {
	res := sampleResults()
	gbk, pardo, wc, skipped := res.Workloads[0], res.Workloads[1], res.Workloads[2], res.Workloads[3]

	if gbk.Status != statusOK || len(gbk.Problems) != 0 {
		t.Errorf("group_by_key status %q, problems %q", gbk.Status, gbk.Problems)
	}
	if *gbk.Sluice.MedianSeconds != 11 || *gbk.Prism.MedianSeconds != 41 {
		t.Errorf("medians %v, %v", *gbk.Sluice.MedianSeconds, *gbk.Prism.MedianSeconds)
	}
	if got := *gbk.SpeedupVsPrism; got < 3.727 || got > 3.728 {
		t.Errorf("speedup vs prism = %v, want 41/11", got)
	}
	if gbk.SpeedupVsDirect != nil {
		t.Errorf("speedup vs direct = %v, want nil where direct is n/a", *gbk.SpeedupVsDirect)
	}
	if got := *gbk.Sluice.RecordsPerSecond; got < 90909 || got > 90910 {
		t.Errorf("sluice records/s = %v", got)
	}
	if *gbk.Sluice.PipelinePeakRSSMB != 53 {
		t.Errorf("sluice pipeline peak = %v, want the largest run's 53", *gbk.Sluice.PipelinePeakRSSMB)
	}

	// The timed-out run does not count towards the median but fails the workload.
	if pardo.Status != statusFailed || *pardo.Sluice.MedianSeconds != 2 || len(pardo.Problems) != 1 ||
		!strings.Contains(pardo.Problems[0], "sluice run 2: timed out") {
		t.Errorf("pardo: status %q, median %v, problems %q", pardo.Status, *pardo.Sluice.MedianSeconds, pardo.Problems)
	}
	if *pardo.SpeedupVsDirect != 1 {
		t.Errorf("pardo speedup vs direct = %v, want 2/2", *pardo.SpeedupVsDirect)
	}
	// A run whose output differs still has a time, but the workload is a mismatch.
	if wc.Status != statusMismatch || wc.Sluice.MedianSeconds == nil || !strings.Contains(wc.Problems[0], "output differs") {
		t.Errorf("wordcount: status %q, problems %q", wc.Status, wc.Problems)
	}
	if skipped.Status != statusSkipped || len(skipped.Problems) != 1 {
		t.Errorf("skipped: status %q, problems %q", skipped.Status, skipped.Problems)
	}
}

func TestTableRows(t *testing.T) {
	rows := tableRows(sampleResults())
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4", len(rows))
	}
	for i, row := range rows {
		if len(row) != len(header) {
			t.Errorf("row %d has %d cells, header %d", i, len(row), len(header))
		}
	}
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %q", name)
		return -1
	}
	gbk := rows[0]
	for name, want := range map[string]string{
		"workload": "group_by_key", "records": "1000000", "sluice s": "11.00", "prism s": "41.00",
		"direct s": "n/a", "sluice rec/s": "90.9K", "prism rec/s": "24.4K", "speedup vs prism": "3.73×",
		"speedup vs direct": "-", "prism server MB": "900", "direct pipeline MB": "n/a", "status": "ok",
		"sluice pipeline CPU s": "16.50", "prism pipeline CPU s": "61.50",
	} {
		if got := gbk[col(name)]; got != want {
			t.Errorf("group_by_key %s = %q, want %q", name, got, want)
		}
	}
	pardo := rows[1]
	if pardo[col("workload")] != "pardo †" || pardo[col("sluice s")] != "2.00 (1 failed)" || pardo[col("status")] != "FAILED" ||
		pardo[col("sluice server MB")] != "-" {
		t.Errorf("pardo row = %q", pardo)
	}
	if got := rows[2][col("status")]; got != "MISMATCH" {
		t.Errorf("wordcount status = %q", got)
	}
	if got, ratio := rows[2][col("hand-written s")], rows[2][col("sluice ÷ hand-written")]; got != "2.00" || ratio != "2.50×" {
		t.Errorf("wordcount hand-written = %q, ratio %q; want 2.00 and 5/2", got, ratio)
	}
	for name, want := range map[string]string{"native stages": "3/3", "native s": "2.50", "native vs prism": "4.00×", "native ÷ hand-written": "1.25×"} {
		if got := rows[2][col(name)]; got != want {
			t.Errorf("wordcount %s = %q, want %q", name, got, want)
		}
	}
	for name, want := range map[string]string{"native stages": "0/2", "native s": "n/a", "native vs prism": "-"} {
		if got := gbk[col(name)]; got != want {
			t.Errorf("group_by_key %s = %q, want %q", name, got, want)
		}
	}
	if got := gbk[col("hand-written s")]; got != "n/a" {
		t.Errorf("group_by_key hand-written = %q, want n/a", got)
	}
	if got := rows[3][col("sluice s")]; got != "-" || rows[3][col("status")] != "SKIPPED" {
		t.Errorf("skipped row = %q", rows[3])
	}
}

func TestRenderText(t *testing.T) {
	var b strings.Builder
	renderText(&b, sampleResults())
	out := b.String()
	for _, frag := range []string{"workload", "group_by_key", "3.73×", "† Beam's synthetic load-test source", "Problems:", "sluice run 2: timed out"} {
		if !strings.Contains(out, frag) {
			t.Errorf("text report lacks %q:\n%s", frag, out)
		}
	}
}

func TestRenderMarkdown(t *testing.T) {
	var b strings.Builder
	renderMarkdown(&b, sampleResults())
	out := b.String()
	lines := strings.Split(out, "\n")
	var table []string
	for _, l := range lines {
		if strings.HasPrefix(l, "| workload | records |") {
			table = append(table, l)
		}
	}
	if len(table) != 1 || strings.Count(table[0], "|") != len(header)+1 {
		t.Errorf("markdown header rows %q", table)
	}
	for _, frag := range []string{
		"| group_by_key | 1000000 | 1M × 100 B | 11.00 | 41.00 | n/a |",
		"| pardo | sluice | 2.00, 120.00 (timeout) | 51, 0 |",
		"| wordcount | sluice | 5.00 (output differs) |",
		"- † Beam's synthetic load-test source spends ~10 µs per element",
		"## Problems",
	} {
		if !strings.Contains(out, frag) {
			t.Errorf("markdown lacks %q:\n%s", frag, out)
		}
	}
}

func TestResultsJSONShape(t *testing.T) {
	dir := t.TempDir()
	if err := writeResults(dir, sampleResults()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.md")); err != nil {
		t.Error(err)
	}
	var doc struct {
		Mode          string `json:"mode"`
		RunsPerRunner int    `json:"runs_per_runner"`
		Caveat        string `json:"caveat"`
		Host          map[string]any
		Workloads     []map[string]any `json:"workloads"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Mode != "full" || doc.RunsPerRunner != 3 || doc.Caveat != caveat || doc.Host["cpus"] != 2.0 || len(doc.Workloads) != 4 {
		t.Errorf("top level = %+v", doc)
	}
	gbk := doc.Workloads[0]
	for _, k := range []string{"name", "records", "input", "status", "sluice", "prism", "direct", "speedup_vs_prism", "speedup_vs_direct", "capped_by_synthetic_source"} {
		if _, ok := gbk[k]; !ok {
			t.Errorf("workload lacks key %q", k)
		}
	}
	if gbk["speedup_vs_direct"] != nil {
		t.Errorf("speedup_vs_direct = %v, want null", gbk["speedup_vs_direct"])
	}
	sl := gbk["sluice"].(map[string]any)
	for k, want := range map[string]any{"runner": "sluice", "available": true, "median_seconds": 11.0, "server_peak_rss_mb": 120.0} {
		if sl[k] != want {
			t.Errorf("sluice.%s = %v, want %v", k, sl[k], want)
		}
	}
	runs := sl["runs"].([]any)
	run := runs[0].(map[string]any)
	for _, k := range []string{"run", "seconds", "exit_code", "ok", "pipeline_peak_rss_mb", "log"} {
		if _, ok := run[k]; !ok {
			t.Errorf("run lacks key %q", k)
		}
	}
	if d := gbk["direct"].(map[string]any); d["available"] != false || d["median_seconds"] != nil {
		t.Errorf("direct = %v", d)
	}
}
