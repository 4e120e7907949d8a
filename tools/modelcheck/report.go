package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// evaluation is the verdict on one pipeline.
type evaluation struct {
	sluice, prism, same string   // table cells
	failures            []string // why the pipeline fails the check; none if it passes
	notes               []string // other things to know, e.g. why prism failed
	diffs               []diff
}

// diff is how an output differs from a reference, as lines of a sorted-line diff.
type diff struct {
	title string
	lines []string // "- LINE" only in the reference, "+ LINE" only in the output
}

// evaluate decides the table cells and the verdict of one pipeline: Sluice must have
// run and given expected.txt; prism must have given expected.txt or its documented
// deviation (prism.txt), or failed, which is only reported.
func evaluate(r *pipelineResult) evaluation {
	var ev evaluation
	if r.buildErr != nil {
		ev.sluice, ev.prism, ev.same = "not run", "not run", "-"
		ev.failures = append(ev.failures, r.buildErr.Error())
		return ev
	}
	want := r.p.expected
	s, pr := r.sluice, r.prism

	switch {
	case s.err != nil:
		ev.sluice = failedCell(s)
		ev.failures = append(ev.failures, "sluice: "+s.err.Error())
	case slices.Equal(s.lines, want):
		ev.sluice = cell("ok", s)
	default:
		ev.sluice = cell("DIFFERS", s)
		ev.failures = append(ev.failures, "sluice: output differs from expected.txt")
		ev.diffs = append(ev.diffs, diff{"sluice vs expected.txt", diffSorted(want, s.lines)})
	}

	switch {
	case r.prismSkipped:
		ev.prism = "skipped"
	case pr.err != nil:
		ev.prism = "prism failed"
		ev.notes = append(ev.notes, "prism failed: "+pr.err.Error())
	case slices.Equal(pr.lines, want):
		ev.prism = cell("ok", pr)
	case r.p.prism != nil && slices.Equal(pr.lines, r.p.prism):
		ev.prism = cell("known deviation", pr)
		ev.notes = append(ev.notes, "prism gives its known deviation from the model (prism.txt says why)")
	default:
		ev.prism = cell("DIFFERS", pr)
		why := "prism: output differs from expected.txt"
		if r.p.prism != nil {
			why += " and from its known deviation in prism.txt"
		}
		ev.failures = append(ev.failures, why)
		ev.diffs = append(ev.diffs, diff{"prism vs expected.txt", diffSorted(want, pr.lines)})
	}

	ev.same = "-"
	if s.err == nil && pr.err == nil && !r.prismSkipped {
		ev.same = "yes"
		if !slices.Equal(s.lines, pr.lines) {
			ev.same = "no"
			if !slices.Equal(s.lines, want) {
				ev.diffs = append(ev.diffs, diff{"sluice vs prism", diffSorted(pr.lines, s.lines)})
			}
		}
	}
	for _, note := range []string{s.note, pr.note} {
		if note != "" {
			ev.notes = append(ev.notes, note)
		}
	}
	return ev
}

func cell(state string, r runResult) string {
	return fmt.Sprintf("%s %.1fs", state, r.seconds)
}

func failedCell(r runResult) string {
	switch {
	case r.timedOut:
		return cell("TIMED OUT", r)
	case r.ran:
		return cell("FAILED", r)
	}
	return "FAILED"
}

// diffSorted compares two sorted line lists as multisets: the result has "- LINE" for
// each line only in want and "+ LINE" for each line only in got, in sorted order.
func diffSorted(want, got []string) []string {
	var out []string
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || (i < len(want) && want[i] < got[j]):
			out = append(out, "- "+want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			out = append(out, "+ "+got[j])
			j++
		default:
			i++
			j++
		}
	}
	return out
}

// report prints the table and, below it, the failures, notes and diffs of each pipeline.
// It returns the number of pipelines that failed the check.
func report(w io.Writer, results []*pipelineResult) int {
	rows := [][]string{{"pipeline", "sluice", "prism", "same?", "check"}}
	evs := make([]evaluation, len(results))
	failed := 0
	for i, r := range results {
		evs[i] = evaluate(r)
		check := "pass"
		if len(evs[i].failures) > 0 {
			check = "FAIL"
			failed++
		}
		rows = append(rows, []string{r.p.name, evs[i].sluice, evs[i].prism, evs[i].same, check})
	}
	fmt.Fprintln(w)
	writeTable(w, rows)
	for i, r := range results {
		ev := evs[i]
		if len(ev.failures)+len(ev.notes)+len(ev.diffs) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", r.p.name)
		for _, f := range ev.failures {
			fmt.Fprintf(w, "  FAIL %s\n", indentRest(f, "       "))
		}
		for _, n := range ev.notes {
			fmt.Fprintf(w, "  note %s\n", indentRest(n, "       "))
		}
		for _, d := range ev.diffs {
			fmt.Fprintf(w, "  %s (sorted lines; - only in the first, + only in the second):\n", d.title)
			for _, l := range d.lines {
				fmt.Fprintf(w, "    %s\n", l)
			}
		}
	}
	return failed
}

// indentRest indents every line of s but the first.
func indentRest(s, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}

// writeTable writes rows as a table with '|'-separated, padded columns and a rule under
// the first row.
func writeTable(w io.Writer, rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(c))
		}
	}
	line := func(row []string) {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = c + strings.Repeat(" ", widths[i]-len(c))
		}
		fmt.Fprintln(w, strings.TrimRight(strings.Join(cells, " | "), " "))
	}
	for i, row := range rows {
		line(row)
		if i == 0 {
			rule := make([]string, len(widths))
			for j, wd := range widths {
				rule[j] = strings.Repeat("-", wd)
			}
			fmt.Fprintln(w, strings.Join(rule, "-+-"))
		}
	}
}
