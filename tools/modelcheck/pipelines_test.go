package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindPipelines(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b", "main.go"), "package main\n")
	writeFile(t, filepath.Join(dir, "b", "expected.txt"), "y 2\nx 1\n")
	writeFile(t, filepath.Join(dir, "b", "prism.txt"), "# prism repeats x\nx 1\nx 1\n# and drops y\n")
	writeFile(t, filepath.Join(dir, "a", "main.go"), "package main\n")
	writeFile(t, filepath.Join(dir, "a", "expected.txt"), "only\n")
	writeFile(t, filepath.Join(dir, "notes", "README"), "not a pipeline\n")

	ps, err := findPipelines(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].name != "a" || ps[1].name != "b" {
		t.Fatalf("found %d pipelines: %+v", len(ps), ps)
	}
	a, b := ps[0], ps[1]
	if a.pkg != filepath.ToSlash(filepath.Join(dir, "a")) || !slices.Equal(a.expected, []string{"only"}) || a.prism != nil {
		t.Errorf("a = %+v", a)
	}
	if !slices.Equal(b.expected, []string{"x 1", "y 2"}) || !slices.Equal(b.prism, []string{"x 1", "x 1"}) {
		t.Errorf("b = %+v", b)
	}

	ps, err = findPipelines(dir, []string{"b"})
	if err != nil || len(ps) != 1 || ps[0].name != "b" {
		t.Errorf("--pipelines=b: %v, %v", ps, err)
	}
	if _, err := findPipelines(dir, []string{"notes"}); err == nil || !strings.Contains(err.Error(), "have a, b") {
		t.Errorf("unknown pipeline: %v", err)
	}
	writeFile(t, filepath.Join(dir, "c", "main.go"), "package main\n")
	if _, err := findPipelines(dir, nil); err == nil || !strings.Contains(err.Error(), "pipeline c") {
		t.Errorf("pipeline without expected.txt: %v", err)
	}
}

func TestRelativePackagePath(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "testdata", "p", "main.go"), "package main\n")
	writeFile(t, filepath.Join(dir, "testdata", "p", "expected.txt"), "x\n")
	t.Chdir(dir)
	ps, err := findPipelines("testdata", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ps[0].pkg != "./testdata/p" {
		t.Errorf("pkg = %q, want ./testdata/p", ps[0].pkg)
	}
}

// The committed pipelines each have a non-empty expected.txt.
func TestCommittedPipelines(t *testing.T) {
	ps, err := findPipelines(filepath.Join("..", "..", "testdata", "modelcheck"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 10 {
		t.Errorf("%d pipelines in testdata/modelcheck, want at least 10", len(ps))
	}
}

func TestReadSortedLines(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string][]string{
		"":         nil,
		"\n":       nil,
		"b\na\n":   {"a", "b"},
		"b\na":     {"a", "b"},
		"a\n\nb\n": {"", "a", "b"},
		"x\nx\n":   {"x", "x"},
	} {
		path := filepath.Join(dir, "f")
		writeFile(t, path, content)
		got, err := readSortedLines(path)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("readSortedLines(%q) = %q, %v; want %q", content, got, err, want)
		}
	}
}
