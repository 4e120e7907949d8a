package main

import (
	"maps"
	"strings"
	"testing"
)

func TestCountSameOnAnyNumberOfWorkers(t *testing.T) {
	text := strings.Repeat("The cat's hat, the CAT and 42 dogs.\nit's\n\nthe end\n", 5000)
	want := map[string]int{"The": 5000, "cat's": 5000, "hat": 5000, "the": 10000, "CAT": 5000, "and": 5000, "dogs": 5000, "it's": 5000, "end": 5000}
	for _, workers := range []int{1, 3} {
		got, err := count(strings.NewReader(text), workers)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("%d workers: counts %v, want %v", workers, got, want)
		}
	}
}
