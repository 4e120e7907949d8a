package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// testID names one test the way expected-pass.txt and results.json do:
// package (relative to beamTest) and test name, subtests after a slash,
// written "integration/primitives.TestCoGBK" or "regression.TestFoo/Sub".
type testID struct {
	pkg  string
	test string
}

func (t testID) String() string { return t.pkg + "." + t.test }

// top is the top-level test that runs t.
func (t testID) top() string {
	if i := strings.IndexByte(t.test, '/'); i >= 0 {
		return t.test[:i]
	}
	return t.test
}

// parseTestID parses "pkg.Test[/sub]". Package names here contain no dots.
func parseTestID(s string) (testID, error) {
	s = strings.TrimPrefix(s, beamTest)
	i := strings.IndexByte(s, '.')
	if i <= 0 || i == len(s)-1 {
		return testID{}, fmt.Errorf("%q is not of the form package.TestName", s)
	}
	return testID{pkg: s[:i], test: s[i+1:]}, nil
}

// readList reads a test list: one test ID per line (the first field; the rest
// of the line may carry a reason), '#' starts a comment, blank lines are
// ignored.
func readList(path string) ([]testID, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read test list: %w", err)
	}
	defer f.Close()
	var ids []testID
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		id, err := parseTestID(fields[0])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ids, nil
}
