package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteTextCountsLines(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt")
	n, err := writeText(a, 100_000, 7)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeText(b, 100_000, 7); err != nil {
		t.Fatal(err)
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Error("same size and seed gave different texts")
	}
	if want := int64(bytes.Count(ab, []byte{'\n'})); n != want || n == 0 {
		t.Errorf("writeText counted %d lines, file has %d", n, want)
	}
	if len(ab) > 100_000 {
		t.Errorf("text is %d bytes, more than asked", len(ab))
	}
}

func TestSortedLinesAndDiff(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	if err := os.WriteFile(p, []byte("the: 3\na: 1\nbe: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := sortedLines(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a: 1", "be: 2", "the: 3"}
	if d := diffLines(want, got); d != "" {
		t.Errorf("sortedLines = %q: %s", got, d)
	}
	empty := filepath.Join(dir, "empty")
	_ = os.WriteFile(empty, nil, 0o644)
	if lines, err := sortedLines(empty); err != nil || len(lines) != 0 {
		t.Errorf("sortedLines(empty) = %q, %v", lines, err)
	}
	if _, err := sortedLines(filepath.Join(dir, "missing")); err == nil {
		t.Error("sortedLines of a missing file succeeded")
	}

	for _, tc := range []struct {
		got  []string
		frag string
	}{
		{[]string{"a: 1", "be: 2", "the: 4"}, `got "the: 4", want "the: 3"`},
		{[]string{"a: 1", "be: 2"}, `missing line "the: 3"`},
		{[]string{"a: 1", "be: 2", "the: 3", "zz: 1"}, `extra line "zz: 1"`},
	} {
		if d := diffLines(want, tc.got); !strings.Contains(d, tc.frag) {
			t.Errorf("diffLines(%q) = %q, want it to mention %q", tc.got, d, tc.frag)
		}
	}
}
