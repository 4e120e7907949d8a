package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "list.txt")
	text := "# header\n\nintegration/primitives.TestCoGBK\n  regression.TestA/Sub  # why\n" +
		"integration/primitives.TestDrain\tpanic: test timed out\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readList(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []testID{
		{"integration/primitives", "TestCoGBK"},
		{"regression", "TestA/Sub"},
		{"integration/primitives", "TestDrain"},
	}
	if len(got) != len(want) {
		t.Fatalf("readList = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %v, want %v", i, got[i], want[i])
		}
	}
	if top := got[1].top(); top != "TestA" {
		t.Errorf("top() = %q, want TestA", top)
	}
}

func TestReadListRejectsBadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(path, []byte("TestCoGBK\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readList(path); err == nil {
		t.Fatal("readList accepted a line without a package")
	}
}
