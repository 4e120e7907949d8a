package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/sluice-runner/sluice/tools/bench/textgen"
)

// lineCounter counts the newlines written through it.
type lineCounter struct {
	w     *bufio.Writer
	lines int64
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.lines += int64(bytes.Count(p, []byte{'\n'}))
	return c.w.Write(p)
}

// writeText writes textgen's text of size bytes to path and returns its line count.
func writeText(path string, size int64, seed uint64) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	c := &lineCounter{w: bufio.NewWriterSize(f, 1<<20)}
	err = textgen.Write(c, size, seed)
	if err == nil {
		err = c.w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("write input %s: %w", path, err)
	}
	return c.lines, nil
}

// sortedLines reads a file's lines, sorted.
func sortedLines(path string) ([]string, error) {
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

// diffLines returns "" if want and got are equal, or a short description of how they
// differ: line counts and the first differing line.
func diffLines(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	for i := 0; i < len(want) && i < len(got); i++ {
		if want[i] != got[i] {
			return fmt.Sprintf("%d lines, want %d; first difference at sorted line %d: got %q, want %q", len(got), len(want), i+1, got[i], want[i])
		}
	}
	if len(got) > len(want) {
		return fmt.Sprintf("%d lines, want %d; extra line %q", len(got), len(want), got[len(want)])
	}
	return fmt.Sprintf("%d lines, want %d; missing line %q", len(got), len(want), want[len(got)])
}
