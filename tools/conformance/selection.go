package main

import (
	"regexp"
	"slices"
)

// selection says which packages and top-level tests a run covers.
type selection struct {
	packages []string
	only     map[string][]string // --only-file: package -> top-level tests; nil means all
	run      *regexp.Regexp      // --run; nil means all
}

func newSelection(c *config) (*selection, error) {
	s := &selection{packages: c.packages, run: c.runRegex}
	if c.onlyFile == "" {
		return s, nil
	}
	ids, err := readList(c.onlyFile)
	if err != nil {
		return nil, err
	}
	s.only = map[string][]string{}
	s.packages = nil
	for _, id := range ids {
		if _, ok := s.only[id.pkg]; !ok {
			s.packages = append(s.packages, id.pkg)
		}
		if !slices.Contains(s.only[id.pkg], id.top()) {
			s.only[id.pkg] = append(s.only[id.pkg], id.top())
		}
	}
	return s, nil
}

// empty reports whether an --only-file run has nothing to run.
func (s *selection) empty() bool { return s.only != nil && len(s.packages) == 0 }

// wants reports whether the top-level test top of pkg is selected.
func (s *selection) wants(pkg, top string) bool {
	if s.only != nil && !slices.Contains(s.only[pkg], top) {
		return false
	}
	return s.run == nil || s.run.MatchString(top)
}

// inScope reports whether this run selects the test id, i.e. whether its
// verdict can be checked against the expected list.
func (s *selection) inScope(id testID) bool {
	return slices.Contains(s.packages, id.pkg) && s.wants(id.pkg, id.top())
}

// listedMissing returns the --only-file tests of pkg that are not in its
// test list (all of them if tests is nil).
func (s *selection) listedMissing(pkg string, tests []string) []string {
	var out []string
	for _, t := range s.only[pkg] {
		if !slices.Contains(tests, t) {
			out = append(out, t)
		}
	}
	return out
}
