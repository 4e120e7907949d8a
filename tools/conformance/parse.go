package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// result is the verdict on one leaf test (or on a test that ended without
// its subtests telling the whole story).
type result struct {
	id      testID
	result  string // pass, fail or skip
	seconds float64
	reason  string // one line, for fail and skip
}

// event is one line of `go tool test2json` output.
type event struct {
	Action  string
	Test    string
	Output  string
	Elapsed float64
}

// convert turns a -test.v=test2json log into test2json events.
func convert(ctx context.Context, rawLog, pkg string) ([]event, error) {
	in, err := os.Open(rawLog)
	if err != nil {
		return nil, fmt.Errorf("open test log: %w", err)
	}
	defer in.Close()
	cmd := exec.CommandContext(ctx, "go", "tool", "test2json", "-t", "-p", pkg)
	cmd.Stdin = in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go tool test2json: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return decodeEvents(out)
}

// decodeEvents parses JSON lines; lines that are not events are skipped.
func decodeEvents(b []byte) ([]event, error) {
	var evs []event
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.Action != "" {
			evs = append(evs, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read test2json output: %w", err)
	}
	return evs, nil
}

// leafResults turns the events of one top-level test's process into
// results: one per leaf test (a test with subtests is not counted itself,
// unless it failed or ended without a verdict while its subtests did not
// show that). noVerdict explains a missing verdict (timeout, kill, crash).
func leafResults(pkg, top string, evs []event, noVerdict string) []result {
	var order []string
	seen := map[string]bool{}
	outputs := map[string][]string{}
	final := map[string]event{}
	for _, e := range evs {
		if e.Test == "" {
			continue
		}
		if !seen[e.Test] {
			seen[e.Test] = true
			order = append(order, e.Test)
		}
		switch e.Action {
		case "output":
			outputs[e.Test] = append(outputs[e.Test], e.Output)
		case "pass", "fail", "skip":
			final[e.Test] = e
		}
	}
	if !seen[top] {
		return []result{{id: testID{pkg, top}, result: "fail", reason: noVerdict}}
	}
	children := map[string][]string{} // parent -> all descendants
	for _, t := range order {
		for p := t; strings.Contains(p, "/"); {
			p = p[:strings.LastIndexByte(p, '/')]
			children[p] = append(children[p], t)
		}
	}
	var res []result
	failed := map[string]bool{}
	for _, t := range order {
		if len(children[t]) > 0 {
			continue
		}
		r := verdict(pkg, t, final, outputs, noVerdict)
		failed[t] = r.result == "fail"
		res = append(res, r)
	}
	// A parent that failed (or never finished) although none of its leaves
	// failed is a failure of its own.
	for _, t := range order {
		kids := children[t]
		if len(kids) == 0 {
			continue
		}
		if e, ok := final[t]; ok && e.Action != "fail" {
			continue
		}
		anyFailed := false
		for _, k := range kids {
			anyFailed = anyFailed || failed[k]
		}
		if !anyFailed {
			res = append(res, verdict(pkg, t, final, outputs, noVerdict))
		}
	}
	return res
}

func verdict(pkg, t string, final map[string]event, outputs map[string][]string, noVerdict string) result {
	r := result{id: testID{pkg, t}}
	e, ok := final[t]
	if !ok {
		r.result = "fail"
		r.reason = noVerdict
		return r
	}
	r.result, r.seconds = e.Action, e.Elapsed
	if r.result != "pass" {
		r.reason = reason(outputs[t], r.result)
	}
	return r
}

var (
	testLineRe = regexp.MustCompile(`_test\.go:\d+:`)
	errorishRe = regexp.MustCompile(`panic:|\.go:\d+:|[Ee]rror|[Ff]ailed|FAIL|timed out|timeout`)
)

// reason picks the most telling line of a test's output: the t.Error/t.Skip
// location line, else a panic or error line, else the last line.
func reason(lines []string, action string) string {
	var clean []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- ") || strings.Contains(l, "level=INFO") {
			continue
		}
		clean = append(clean, l)
	}
	if len(clean) == 0 {
		return ""
	}
	pick := func(re *regexp.Regexp) (string, bool) {
		for _, l := range clean {
			if re.MatchString(l) {
				return l, true
			}
		}
		return "", false
	}
	if l, ok := pick(testLineRe); ok {
		if strings.HasSuffix(l, ":") && action == "fail" {
			l += " ... " + clean[len(clean)-1] // multi-line error: add the innermost cause
		}
		return clip(l)
	}
	if action != "skip" {
		if l, ok := pick(errorishRe); ok {
			return clip(l)
		}
	}
	return clip(clean[len(clean)-1])
}

// noVerdictReason explains why a test process produced no verdict.
func noVerdictReason(o outcome, c *config) string {
	switch {
	case o.startErr != nil:
		return "not run: " + o.startErr.Error()
	case o.killed:
		return fmt.Sprintf("killed: no verdict after %s", c.timeout+killSlack)
	}
	raw, _ := os.ReadFile(o.rawLog)
	if bytes.Contains(raw, []byte("panic: test timed out after")) {
		return fmt.Sprintf("timeout: no verdict after %s (test.timeout panic)", c.timeout)
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if errorishRe.MatchString(l) && !strings.Contains(l, "level=INFO") {
			return fmt.Sprintf("exited %d without a verdict: %s", o.exitCode, clip(l))
		}
	}
	return fmt.Sprintf("exited %d without a verdict", o.exitCode)
}

// clip makes s one line of at most 240 bytes.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 240 {
		s = s[:240] + "..."
	}
	return s
}
