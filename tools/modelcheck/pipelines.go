package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// pipeline is one program under --dir and the results it may give.
type pipeline struct {
	name     string
	pkg      string   // package path for `go build`, e.g. ./testdata/modelcheck/NAME
	expected []string // expected.txt, sorted
	// prism is prism.txt without its comment lines, sorted: prism's known deviation from
	// expected. nil if the pipeline has no prism.txt.
	prism []string
}

// findPipelines returns the pipelines in dir (every subdirectory with a main.go), sorted
// by name, or only those named in names, in that order.
func findPipelines(dir string, names []string) ([]*pipeline, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "main.go")); err == nil {
			all = append(all, e.Name())
		}
	}
	if names == nil {
		names = all
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no pipelines in %s", dir)
	}
	var ps []*pipeline
	for _, name := range names {
		if !slices.Contains(all, name) {
			return nil, fmt.Errorf("no pipeline %q in %s (have %s)", name, dir, strings.Join(all, ", "))
		}
		p, err := loadPipeline(dir, name)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func loadPipeline(dir, name string) (*pipeline, error) {
	pdir := filepath.Join(dir, name)
	pkg := filepath.ToSlash(pdir)
	if !filepath.IsAbs(pdir) {
		pkg = "./" + pkg
	}
	p := &pipeline{name: name, pkg: pkg}
	var err error
	if p.expected, err = readSortedLines(filepath.Join(pdir, "expected.txt")); err != nil {
		return nil, fmt.Errorf("pipeline %s: %w (every pipeline needs the result the Beam model prescribes)", name, err)
	}
	if len(p.expected) == 0 {
		return nil, fmt.Errorf("pipeline %s: expected.txt is empty", name)
	}
	lines, err := readSortedLines(filepath.Join(pdir, "prism.txt"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("pipeline %s: %w", name, err)
	default:
		p.prism = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, "#") })
		if p.prism == nil {
			p.prism = []string{}
		}
	}
	return p, nil
}

// readSortedLines reads a file's lines, sorted. A final newline does not make an empty
// last line; an empty file has no lines.
func readSortedLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil, nil
	}
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return lines, nil
}
