package state

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var (
	metaSeed = flag.Uint64("meta.seed", 0, "seed of TestMetamorphic (0: a new one, logged)")
	metaOps  = flag.Int("meta.ops", 4000, "operations per TestMetamorphic run")
)

// TestMetamorphic applies one seeded random sequence of operations to the in-memory
// backend and to Pebble (with reopens, flushes, compactions and namespace drops among
// them) and compares what
// every read returns. A failure names the seed; rerun it with -meta.seed.
func TestMetamorphic(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if *metaSeed != 0 {
		seeds = []uint64{*metaSeed}
	} else {
		seeds = append(seeds, uint64(time.Now().UnixNano()))
	}
	ops := *metaOps
	if testing.Short() {
		ops /= 4
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runMetamorphic(t, seed, ops) })
	}
}

// Namespaces the random operations use: two tasks of one job (dropped together) and one
// of another job whose id starts like the first one's.
var metaPaths = []string{"j1/s/0/user", "j1/s/1/user", "j10/s/0/user"}

func runMetamorphic(t *testing.T, seed uint64, ops int) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	mem, peb := newMemBackend(), newPebbleBackend(t)
	// Keys and values come from a small alphabet with the bytes the encoding escapes, so
	// that keys collide, prefix each other and hold 0x00 often.
	alphabet := []byte{0x00, 0x01, 0x02, 'a', 'b', 0xfe, 0xff}
	word := func(maxLen int) []byte {
		b := make([]byte, r.IntN(maxLen+1))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return b
	}
	var history []string
	fail := func(format string, args ...any) {
		t.Helper()
		start := max(0, len(history)-30)
		t.Fatalf("seed %d, operation %d: %s\nlast operations:\n  %s", seed, len(history), fmt.Sprintf(format, args...),
			strings.Join(history[start:], "\n  "))
	}
	for range ops {
		path := metaPaths[r.IntN(len(metaPaths))]
		var op string
		var args []string
		switch n := r.IntN(100); {
		case n < 40:
			op, args = "append", []string{string(word(3)), string(word(6))}
		case n < 55:
			op, args = "read", []string{string(word(3))}
		case n < 60:
			op, args = "size", []string{string(word(3))}
		case n < 72:
			op, args = "clear", []string{string(word(3))}
		case n < 92:
			op, args = "scan", []string{string(word(2))}
		case n < 96:
			a, b := word(3), word(3)
			op, args = "clear-range", []string{string(word(1)), string(a), string(b)}
		case n < 97:
			history = append(history, "reopen")
			if err := peb.reopen(); err != nil {
				fail("reopen: %v", err)
			}
			continue
		case n < 98:
			// Values, deletions and headers go to sstables, where compactions meet them.
			history = append(history, "flush and compact")
			if err := peb.db.db.Flush(); err != nil {
				fail("flush: %v", err)
			}
			if err := peb.db.db.Compact(context.Background(), []byte{nsSpace}, []byte{nsSpace + 1}, false); err != nil {
				fail("compact: %v", err)
			}
			continue
		default:
			job := strings.SplitN(path, "/", 2)[0]
			history = append(history, "drop "+job)
			if err := mem.drop(job); err != nil {
				fail("drop %s in memory: %v", job, err)
			}
			if err := peb.drop(job); err != nil {
				fail("drop %s in pebble: %v", job, err)
			}
			continue
		}
		line := op
		for _, a := range args {
			line += " " + show([]byte(a))
		}
		history = append(history, path+": "+line)
		want, err := apply(mem.store(path), op, args)
		if err != nil {
			fail("%s in memory: %v", line, err)
		}
		got, err := apply(peb.store(path), op, args)
		if err != nil {
			fail("%s in pebble: %v", line, err)
		}
		if got != want {
			fail("%s:\npebble: %s\nmemory: %s", line, got, want)
		}
	}
	// Every bag of every namespace ends equal.
	for _, path := range metaPaths {
		want, _ := apply(mem.store(path), "scan", nil)
		got, err := apply(peb.store(path), "scan", nil)
		if err != nil || got != want {
			fail("final scan of %s: pebble %q (%v), memory %q", path, got, err, want)
		}
		err = mem.store(path).ScanKeys(nil, func(k []byte) error {
			want, _ := apply(mem.store(path), "read", []string{string(k)})
			got, err := apply(peb.store(path), "read", []string{string(k)})
			if err != nil || got != want {
				fail("final read in %s: pebble %q (%v), memory %q", path, got, err, want)
			}
			return nil
		})
		if err != nil {
			fail("final scan of %s in memory: %v", path, err)
		}
	}
}
