package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
)

// printTable writes one row per result, in run order.
func printTable(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tTEST\tRESULT\tSECONDS\tREASON")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\n", r.id.pkg, r.id.test, r.result, r.seconds, r.reason)
	}
	_ = tw.Flush()
}

// counts returns the number of passed, failed and skipped results.
func counts(results []result) (pass, fail, skip int) {
	for _, r := range results {
		switch r.result {
		case "pass":
			pass++
		case "skip":
			skip++
		default:
			fail++
		}
	}
	return pass, fail, skip
}

// jsonResult is one entry of results.json, keyed by "pkg.Test[/sub]" (the
// same shape as the shared reference driver's results file).
type jsonResult struct {
	Result  string  `json:"result"`
	Seconds float64 `json:"seconds"`
	Reason  string  `json:"reason,omitempty"`
}

func writeResults(path string, results []result) error {
	m := make(map[string]jsonResult, len(results))
	for _, r := range results {
		m[r.id.String()] = jsonResult{Result: r.result, Seconds: r.seconds, Reason: r.reason}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// comparison is the outcome of checking results against the expected list.
type comparison struct {
	notPassed  []string // expected, in scope, did not pass (with why)
	newPass    []string // passed, not covered by an expected entry
	outOfScope int      // expected entries this run did not select
}

// compare checks every expected entry that inScope selects. An entry passes
// if its own result passed, or, for a test with subtests, if it has subtest
// results and all of them passed.
func compare(expected []testID, results []result, inScope func(testID) bool) comparison {
	byID := map[string]result{}
	for _, r := range results {
		byID[r.id.String()] = r
	}
	var c comparison
	covered := func(key string) bool {
		for _, e := range expected {
			if k := e.String(); key == k || strings.HasPrefix(key, k+"/") {
				return true
			}
		}
		return false
	}
	for _, e := range expected {
		if !inScope(e) {
			c.outOfScope++
			continue
		}
		if ok, why := passed(e.String(), byID); !ok {
			c.notPassed = append(c.notPassed, e.String()+": "+why)
		}
	}
	for _, r := range results {
		if r.result == "pass" && !covered(r.id.String()) {
			c.newPass = append(c.newPass, r.id.String())
		}
	}
	sort.Strings(c.newPass)
	return c
}

func passed(key string, byID map[string]result) (bool, string) {
	if r, ok := byID[key]; ok {
		if r.result == "pass" {
			return true, ""
		}
		return false, r.result + ": " + r.reason
	}
	n := 0
	for k, r := range byID {
		if !strings.HasPrefix(k, key+"/") {
			continue
		}
		n++
		if r.result != "pass" {
			return false, k + " " + r.result + ": " + r.reason
		}
	}
	if n == 0 {
		return false, "no result (test not found or not run)"
	}
	return true, ""
}

// printComparison reports the expected-list check. It returns true if every
// expected test in scope passed.
func printComparison(w io.Writer, c comparison, expectedPath string) bool {
	if c.outOfScope > 0 {
		fmt.Fprintf(w, "# %d expected tests were not selected by this run and not checked\n", c.outOfScope)
	}
	if len(c.newPass) > 0 {
		fmt.Fprintf(w, "\nnewly passing — add them to %s:\n", expectedPath)
		for _, k := range c.newPass {
			fmt.Fprintln(w, k)
		}
	}
	if len(c.notPassed) > 0 {
		fmt.Fprintf(w, "\nEXPECTED TO PASS BUT DID NOT (%d, listed in %s):\n", len(c.notPassed), expectedPath)
		for _, k := range c.notPassed {
			fmt.Fprintln(w, "  "+k)
		}
		return false
	}
	return true
}
