package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
)

// header is the summary table's header; tableRows fills the same columns.
var header = []string{
	"workload", "records", "input",
	"sluice s", "prism s", "direct s",
	"sluice rec/s", "prism rec/s", "direct rec/s",
	"speedup vs prism", "speedup vs direct",
	"sluice server MB", "prism server MB",
	"sluice pipeline MB", "prism pipeline MB", "direct pipeline MB",
	"sluice pipeline CPU s", "prism pipeline CPU s",
	"hand-written s", "sluice ÷ hand-written",
	"native stages", "native s", "native vs prism", "native ÷ hand-written",
	"status",
}

// capMark flags the workloads the caveat is about.
const capMark = " †"

// tableRows renders one row per workload.
func tableRows(res *Results) [][]string {
	var rows [][]string
	for i := range res.Workloads {
		w := &res.Workloads[i]
		name := w.Name
		if w.Capped {
			name += capMark
		}
		records := "-"
		if w.Records > 0 {
			records = strconv.FormatInt(w.Records, 10)
		}
		input := w.Input
		if input == "" {
			input = "-"
		}
		row := []string{name, records, input}
		for _, r := range w.runners() {
			row = append(row, runnerCell(w, r, r.fmtMedian))
		}
		for _, r := range w.runners() {
			row = append(row, runnerCell(w, r, r.fmtRate))
		}
		row = append(row, fmtRatio(w.SpeedupVsPrism), fmtRatio(w.SpeedupVsDirect))
		for _, r := range []*RunnerResult{w.Sluice, w.Prism} {
			row = append(row, runnerCell(w, r, func() string { return fmtMB(r.ServerPeakRSSMB) }))
		}
		for _, r := range w.runners() {
			row = append(row, runnerCell(w, r, func() string { return fmtMB(r.PipelinePeakRSSMB) }))
		}
		for _, r := range []*RunnerResult{w.Sluice, w.Prism} {
			row = append(row, runnerCell(w, r, func() string { return fmtSeconds(r.PipelineCPUSeconds) }))
		}
		hw := "n/a"
		if w.Handwritten != nil {
			hw = runnerCell(w, w.Handwritten, w.Handwritten.fmtMedian)
		}
		row = append(row, hw, fmtRatio(w.SluiceOverHandwritten))
		stages, native := "-", "n/a"
		if w.NativeStages != "" {
			stages = w.NativeStages
		}
		if w.Native != nil {
			native = runnerCell(w, w.Native, w.Native.fmtMedian)
		}
		row = append(row, stages, native, fmtRatio(w.NativeSpeedupVsPrism), fmtRatio(w.NativeOverHandwritten))
		row = append(row, statusCell(w))
		rows = append(rows, row)
	}
	return rows
}

// runnerCell is "n/a" for a runner that cannot run the workload, "-" for one that did not
// run, else f().
func runnerCell(w *WorkloadResult, r *RunnerResult, f func() string) string {
	switch {
	case r == nil || w.Status == statusSkipped:
		return "-"
	case !r.Available:
		return "n/a"
	}
	return f()
}

func (r *RunnerResult) fmtMedian() string {
	if r.MedianSeconds == nil {
		return "FAIL"
	}
	s := strconv.FormatFloat(*r.MedianSeconds, 'f', 2, 64)
	if n := r.failedRuns(); n > 0 {
		s += fmt.Sprintf(" (%d failed)", n)
	}
	return s
}

func (r *RunnerResult) fmtRate() string {
	if r.RecordsPerSecond == nil {
		return "-"
	}
	return humanRate(*r.RecordsPerSecond)
}

func (r *RunnerResult) failedRuns() int {
	n := 0
	for _, run := range r.Runs {
		if !run.completed() {
			n++
		}
	}
	return n
}

func statusCell(w *WorkloadResult) string {
	if w.Status == statusOK {
		return statusOK
	}
	return strings.ToUpper(w.Status)
}

// humanRate renders a rate with three significant digits: 91234 → "91.2K".
func humanRate(x float64) string {
	switch {
	case x >= 1e6:
		return sig3(x/1e6) + "M"
	case x >= 1e3:
		return sig3(x/1e3) + "K"
	}
	return sig3(x)
}

func sig3(x float64) string {
	switch {
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

func fmtRatio(x *float64) string {
	if x == nil {
		return "-"
	}
	return strconv.FormatFloat(*x, 'f', 2, 64) + "×"
}

func fmtSeconds(x *float64) string {
	if x == nil {
		return "-"
	}
	return strconv.FormatFloat(*x, 'f', 2, 64)
}

func fmtMB(x *float64) string {
	if x == nil {
		return "-"
	}
	return strconv.FormatFloat(*x, 'f', 0, 64)
}

// footnotes explain the columns; they follow both tables.
func footnotes(res *Results) []string {
	return []string{
		fmt.Sprintf("%s mode, %d run(s) per runner, runners alternating within each round; %d CPUs, %s, %s/%s; started %s.",
			res.Mode, res.RunsPerRunner, res.Host.CPUs, res.Host.GoVersion, res.Host.OS, res.Host.Arch, res.Started.Format("2006-01-02 15:04 MST")),
		"Seconds: median wall time of the pipeline process (submission, staging and SDK harness included) over the runs that exited 0.",
		"records/s = records / median seconds. Speedup = other runner's median / Sluice's median (above 1: Sluice is faster).",
		"Server MB: peak RSS (VmHWM) of the runner's server process over the whole workload. Pipeline MB: largest peak RSS (rusage MaxRSS) of the pipeline process, which runs the SDK harness in LOOPBACK mode (for direct, the whole runner).",
		fmt.Sprintf("Pipeline CPU s: median user + system CPU time of the pipeline process. In LOOPBACK mode that is the SDK harness's work, which no runner can take away: with %d CPUs a runner's wall time cannot go below pipeline CPU s / %d.", res.Host.CPUs, res.Host.CPUs),
		"Hand-written s: a plain-Go program doing the same work with no Beam (tools/bench/reference), on as many goroutines as CPUs: the limit a compiled pipeline is measured against; sluice ÷ hand-written is how many times its time Sluice takes.",
		"n/a: the runner cannot run the workload. FAIL: no run exited 0.",
		"†" + " " + res.Caveat,
	}
}

// problems lists every workload's problems and notes.
func problems(res *Results) []string {
	var out []string
	for _, w := range res.Workloads {
		for _, p := range w.Problems {
			out = append(out, w.Name+": "+p)
		}
		for _, n := range w.Notes {
			out = append(out, w.Name+": note: "+n)
		}
	}
	return out
}

// renderText writes the summary as an aligned plain-text table.
func renderText(w io.Writer, res *Results) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range tableRows(res) {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, f := range footnotes(res) {
		fmt.Fprintln(w, f)
	}
	if lines := nexmarkPerCore(res); len(lines) > 0 {
		fmt.Fprintln(w, "\nNexmark per core: "+nexmarkPerCoreNote(res))
		for _, l := range lines {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if ps := problems(res); len(ps) > 0 {
		fmt.Fprintln(w, "\nProblems:")
		for _, p := range ps {
			fmt.Fprintln(w, "  "+p)
		}
	}
}

// renderMarkdown writes the summary table, the per-run times and the notes as markdown.
func renderMarkdown(w io.Writer, res *Results) {
	fmt.Fprintln(w, "# Sluice vs prism benchmark")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generated by `make bench` (tools/bench/driver).")
	fmt.Fprintln(w)
	writeMDRow(w, header)
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---:"
		if i == 0 || i == 2 || i == len(header)-1 {
			seps[i] = "---"
		}
	}
	writeMDRow(w, seps)
	for _, row := range tableRows(res) {
		writeMDRow(w, row)
	}
	fmt.Fprintln(w)
	for _, f := range footnotes(res) {
		fmt.Fprintln(w, "- "+f)
	}
	if lines := nexmarkPerCore(res); len(lines) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "## Nexmark per core")
		fmt.Fprintln(w)
		fmt.Fprintln(w, nexmarkPerCoreNote(res))
		fmt.Fprintln(w)
		for _, l := range lines {
			fmt.Fprintln(w, "- "+l)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Runs")
	fmt.Fprintln(w)
	writeMDRow(w, []string{"workload", "runner", "seconds per run", "pipeline MB per run", "pipeline CPU s per run"})
	writeMDRow(w, []string{"---", "---", "---", "---", "---"})
	for _, wl := range res.Workloads {
		for _, r := range wl.programs() {
			if r == nil || !r.Available || len(r.Runs) == 0 {
				continue
			}
			var secs, mbs, cpus []string
			for _, run := range r.Runs {
				s := strconv.FormatFloat(run.Seconds, 'f', 2, 64)
				switch {
				case run.TimedOut:
					s += " (timeout)"
				case run.ExitCode != 0:
					s += fmt.Sprintf(" (exit %d)", run.ExitCode)
				case run.OutputMatches != nil && !*run.OutputMatches:
					s += " (output differs)"
				}
				secs = append(secs, s)
				mbs = append(mbs, strconv.FormatFloat(run.PipelinePeakRSSMB, 'f', 0, 64))
				cpus = append(cpus, strconv.FormatFloat(run.PipelineCPUSeconds, 'f', 2, 64))
			}
			writeMDRow(w, []string{wl.Name, r.Runner, strings.Join(secs, ", "), strings.Join(mbs, ", "), strings.Join(cpus, ", ")})
		}
	}
	if ps := problems(res); len(ps) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "## Problems")
		fmt.Fprintln(w)
		for _, p := range ps {
			fmt.Fprintln(w, "- "+strings.ReplaceAll(p, "\n", " "))
		}
	}
}

func writeMDRow(w io.Writer, cells []string) {
	esc := make([]string, len(cells))
	for i, c := range cells {
		esc[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	fmt.Fprintln(w, "| "+strings.Join(esc, " | ")+" |")
}

// writeResults writes OUT/results.json and OUT/results.md.
func writeResults(dir string, res *Results) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	renderMarkdown(&md, res)
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(md.String()), 0o644)
}

// flinkPerCore is nexmark-flink's published throughput per core (events/s per core used),
// from the results table of github.com/nexmark/nexmark's README: Flink 1.13, 100M events,
// 8 TaskManagers with one slot each on 8-core workers, streaming SQL with checkpoints.
var flinkPerCore = map[string]float64{
	"nexmark_q0": 155.02e3, "nexmark_q1": 157.94e3, "nexmark_q2": 175.21e3, "nexmark_q3": 152.12e3,
	"nexmark_q4": 34.33e3, "nexmark_q5": 22.14e3, "nexmark_q7": 12.33e3, "nexmark_q8": 146.14e3,
}

// nexmarkPerCoreNote says what the per-core lines compare and why they are only context.
func nexmarkPerCoreNote(res *Results) string {
	note := fmt.Sprintf("Sluice's events/s per core = events / Sluice's median seconds / %d CPUs. "+
		"Flink's figures are nexmark-flink's published Throughput/Cores (Flink 1.13, 100M events, "+
		"8 TaskManagers on 8-core workers, cores counted as CPU actually used). "+
		"The hardware and setup differ: here %d cores shared with other work, Sluice in portable Fn API mode "+
		"with the LOOPBACK SDK harness in the pipeline process, a bounded input generated in the pipeline, "+
		"job submission and writing the result file included; Flink runs the queries as streaming SQL on a cluster. "+
		"Read the two side by side as an order of magnitude, not as a measured speedup.",
		res.Host.CPUs, res.Host.CPUs)
	if res.Mode == "quick" {
		note += " In quick mode job startup dominates Sluice's figures."
	}
	return note
}

// nexmarkPerCore returns one line per Nexmark workload: Sluice's events/s per core next to
// Flink's published figure.
func nexmarkPerCore(res *Results) []string {
	var lines []string
	for i := range res.Workloads {
		w := &res.Workloads[i]
		if !strings.HasPrefix(w.Name, nexmarkPrefix) || w.Status == statusSkipped {
			continue
		}
		sluice := "Sluice: no completed run"
		if m := medianOf(w.Sluice); m != nil && *m > 0 && res.Host.CPUs > 0 {
			perCore := float64(w.Records) / *m / float64(res.Host.CPUs)
			sluice = fmt.Sprintf("Sluice %s events/s/core (%d events / %.2f s / %d CPUs)",
				humanRate(perCore), w.Records, *m, res.Host.CPUs)
		}
		flink := "Flink: no published figure"
		if f, ok := flinkPerCore[w.Name]; ok {
			flink = "Flink (nexmark-flink, 8-core workers) " + humanRate(f) + " events/s/core"
		}
		lines = append(lines, w.Name+": "+sluice+"; "+flink)
	}
	return lines
}
