package main

// This test runs the chains sluicegen generated for this package (nativecount_sluice.go,
// which codegen's tests add with a build overlay) the way the native harness does: stage
// by fingerprint from rt's registry, elements in as header + value bytes, outputs read back
// with the generated decoders.

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-runner/sluice/codegen/rt"
	"github.com/sluice-runner/sluice/runner/wire"
)

// stage makes an instance of the chain registered for the planned stage id.
func stage(t *testing.T, id string) rt.Stage {
	t.Helper()
	for fp, label := range sluiceStages {
		if !strings.HasPrefix(label, id+":") {
			continue
		}
		f, ok := rt.LookupStage(fp)
		if !ok {
			t.Fatalf("stage %s (%s) is not registered", id, fp)
		}
		s, err := f(nil) // func DoFns only: nothing to decode
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Fatalf("no stage %s in %v", id, sluiceStages)
	return nil
}

var header = rt.Header{Timestamp: 1234, Pane: wire.PaneInfo{IsFirst: true, IsLast: true, Timing: wire.PaneOnTime}}

// runSplit runs stage s1 (lines -> words -> keyed counts -> precombine) on one impulse
// element and returns the partial counts it wrote, in order.
func runSplit(t *testing.T) (keys []string, counts []int) {
	t.Helper()
	var got []byte
	out := rt.NewOutput(func(b []byte) error { got = append(got, b...); return nil })
	b, err := stage(t, "s1").StartBundle(context.Background(), []*rt.Output{out})
	if err != nil {
		t.Fatal(err)
	}
	elem := sluiceAppendS0ToS1(nil, []byte{})
	n, err := b.Process(header, append(elem, 0xFF))
	if err != nil || n != len(elem) {
		t.Fatalf("Process took %d bytes, %v; want %d", n, err, len(elem))
	}
	if err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	for rest := got; len(rest) > 0; {
		h, m, err := rt.DecodeGlobalHeader(rest)
		// A partial has its key's last element's time and windows, and no pane: the SDK's
		// lifted combine sets none.
		if want := (rt.Header{Timestamp: header.Timestamp, Windows: header.Windows}); err != nil || h != want {
			t.Fatalf("header %+v, %v; want %+v", h, err, want)
		}
		k, v, m2, err := sluiceDecodeS1ToS2(rest[m:])
		if err != nil {
			t.Fatal(err)
		}
		keys, counts = append(keys, k), append(counts, v)
		rest = rest[m+m2:]
	}
	if int64(len(keys)) != out.Count() {
		t.Errorf("decoded %d elements, the output counted %d", len(keys), out.Count())
	}
	return keys, counts
}

func TestNativeChains(t *testing.T) {
	keys, counts := runSplit(t)
	// One partial per word, in first-seen order: fewer than 2000 keys are never flushed early.
	wantKeys := []string{"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "sleeps"}
	wantCounts := []int{3, 1, 1, 1, 1, 1, 1, 2, 1}
	if !slices.Equal(keys, wantKeys) || !slices.Equal(counts, wantCounts) {
		t.Errorf("partials %v %v, want %v %v", keys, counts, wantKeys, wantCounts)
	}

	// Stage s3 merges grouped partials, formats and collects: feed each word its count
	// split into two partials (merged in order), and one with no partials at all.
	b, err := stage(t, "s3").StartBundle(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	seen.lines = nil
	for i, k := range keys {
		elem := sluiceAppendS2ToS3(nil, k, rt.ValuesOf([]int{counts[i] - 1, 1}))
		if n, err := b.Process(header, elem); err != nil || n != len(elem) {
			t.Fatalf("Process took %d bytes, %v; want %d", n, err, len(elem))
		}
	}
	if _, err := b.Process(header, sluiceAppendS2ToS3(nil, "none", rt.Values[int]{})); err != nil {
		t.Fatal(err)
	}
	if err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i, k := range keys {
		want = append(want, fmt.Sprintf("%s: %d", k, counts[i]))
	}
	want = append(want, "none: 0")
	if !reflect.DeepEqual(seen.lines, want) {
		t.Errorf("collected %q, want %q", seen.lines, want)
	}

	// Bad bytes are an error, not a panic.
	elem := sluiceAppendS2ToS3(nil, "x", rt.ValuesOf([]int{1, 2}))
	if _, err := b.Process(header, elem[:len(elem)-1]); err == nil {
		t.Error("a truncated element was accepted")
	}
}

// TestPrecombineFlushes: more than 2000 keys in a bundle make the lifted combine emit
// what it holds early; every word's partials still add up to its count.
func TestPrecombineFlushes(t *testing.T) {
	saved := lines
	defer func() { lines = saved }()
	var words []string
	for i := range 2500 {
		words = append(words, fmt.Sprintf("w%d", i))
	}
	lines = []string{strings.Join(words, " "), strings.Join(words, " ")}
	keys, counts := runSplit(t)
	sums := map[string]int{}
	for i, k := range keys {
		sums[k] += counts[i]
	}
	if len(sums) != 2500 || len(keys) <= 2500 {
		t.Fatalf("%d keys in %d partials, want 2500 keys in more partials", len(sums), len(keys))
	}
	for k, n := range sums {
		if n != 2 {
			t.Errorf("%s: %d, want 2", k, n)
		}
	}
}
