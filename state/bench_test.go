package state

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// Store-level benchmarks of both backends (user-state benchmarks through the Fn API
// handlers are in runner/worker). Each reports ops/s, one op being the unit named by the
// benchmark.
//
//	go test ./state -run '^$' -bench Store

func benchBackends(b *testing.B, run func(b *testing.B, s Store)) {
	b.Run("memory", func(b *testing.B) { run(b, NewMemStore()) })
	b.Run("pebble", func(b *testing.B) {
		db, err := OpenPebble(b.TempDir(), PebbleOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		run(b, db.Store(Namespace("job", "stage", "0", "user")))
	})
}

func reportOps(b *testing.B, ops int) {
	b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
}

func benchKey(i int) []byte { return fmt.Appendf(nil, "b\x05t/s\x01w\x08user-%06d", i) }

// BenchmarkStoreAppend appends 32-byte values to 1024 bags in turn.
func BenchmarkStoreAppend(b *testing.B) {
	benchBackends(b, func(b *testing.B, s Store) {
		keys := make([][]byte, 1024)
		for i := range keys {
			keys[i] = benchKey(i)
		}
		v := make([]byte, 32)
		i := 0
		for b.Loop() {
			if err := s.AppendBag(keys[i%len(keys)], v); err != nil {
				b.Fatal(err)
			}
			i++
		}
		reportOps(b, i)
	})
}

// BenchmarkStoreValueRMW is value state: read the bag, clear it, append the new value;
// keys is how many keys take turns.
func BenchmarkStoreValueRMW(b *testing.B) {
	for _, keys := range []int{1, 1024, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			benchBackends(b, func(b *testing.B, s Store) { countLoop(b, s, keys) })
		})
	}
}

// countLoop is a per-key counter: each op reads the key's count, clears it and appends
// count+1.
func countLoop(b *testing.B, s Store, nkeys int) {
	keys := make([][]byte, nkeys)
	for i := range keys {
		keys[i] = benchKey(i)
	}
	i := 0
	var buf [8]byte
	for b.Loop() {
		k := keys[i%nkeys]
		var n uint64
		if err := s.ReadBag(k, func(v []byte) error { n = binary.BigEndian.Uint64(v); return nil }); err != nil {
			b.Fatal(err)
		}
		if err := s.ClearBag(k); err != nil {
			b.Fatal(err)
		}
		if err := s.AppendBag(k, binary.BigEndian.AppendUint64(buf[:0], n+1)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportOps(b, i)
	var n uint64
	_ = s.ReadBag(keys[0], func(v []byte) error { n = binary.BigEndian.Uint64(v); return nil })
	if want := uint64((i + nkeys - 1) / nkeys); n != want {
		b.Fatalf("count of key 0 = %d, want %d", n, want)
	}
}
