package main

import (
	"bytes"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/synthetic"
)

func TestGenerateAsTheSyntheticSource(t *testing.T) {
	cfg := synthetic.DefaultSourceConfig().NumElements(100).KeySize(10).ValueSize(90).Build()
	n := 0
	generate(cfg, 0, 100, func(key, value []byte) {
		n++
		if len(key) != 10 || len(value) != 90 {
			t.Fatalf("record %d: key %d bytes, value %d; want 10 and 90", n, len(key), len(value))
		}
	})
	if n != 100 {
		t.Errorf("%d records, want 100", n)
	}
	// Hot keys come from a generator seeded with the record's index modulo the hot keys,
	// as in the source: the same keys on every run and for every range.
	hot := synthetic.DefaultSourceConfig().NumElements(6).NumHotKeys(2).HotKeyFraction(1).Build()
	var keys [][]byte
	generate(hot, 0, 6, func(key, _ []byte) { keys = append(keys, key) })
	generate(hot, 2, 3, func(key, _ []byte) { keys = append(keys, key) })
	if !bytes.Equal(keys[0], keys[2]) || !bytes.Equal(keys[1], keys[3]) || bytes.Equal(keys[0], keys[1]) || !bytes.Equal(keys[6], keys[0]) {
		t.Errorf("hot keys %x: want two keys alternating, the same for record 2 in any range", keys)
	}
}

func TestStepCounts(t *testing.T) {
	var out sink
	step{iterations: 2, counters: 3, operations: 4}.apply(make([]byte, 10), make([]byte, 90), &out)
	if out != (sink{records: 1, bytes: 100, count: 24}) {
		t.Errorf("sink = %+v, want 1 record, 100 bytes, 2×3×4 increments", out)
	}
}
