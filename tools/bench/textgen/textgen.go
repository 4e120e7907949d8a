// Package textgen writes a deterministic English-like text of a requested size: the input
// of the word-count example and of the benchmarks. The same size and seed always give the
// same bytes (its random generator is defined here, not taken from a library whose
// algorithm could change).
package textgen

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Write writes about size bytes of text (ending at the last whole line below size) to w.
func Write(w io.Writer, size int64, seed uint64) error {
	if size <= 0 {
		return fmt.Errorf("size must be positive, got %d", size)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := generate(bw, size, seed); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// generate writes sentences of vocabulary words, Zipf-distributed (the
// k-th word is about k times rarer than the first), in lines of at most
// about 70 characters, until the next line would pass size.
func generate(w io.Writer, size int64, seed uint64) error {
	r := rng{state: seed}
	words := strings.Fields(vocabulary)
	cum := zipfTable(len(words))
	var written int64
	var line strings.Builder
	startSentence := true
	for {
		line.Reset()
		for line.Len() < 70 {
			word := words[pick(cum, r.float())]
			if startSentence {
				word = strings.ToUpper(word[:1]) + word[1:]
				startSentence = false
			}
			if line.Len() > 0 {
				line.WriteByte(' ')
			}
			line.WriteString(word)
			switch n := r.next() % 100; {
			case n < 7:
				line.WriteByte('.')
				startSentence = true
			case n < 11:
				line.WriteByte(',')
			}
		}
		line.WriteByte('\n')
		if written+int64(line.Len()) > size {
			return nil
		}
		n, err := io.WriteString(w, line.String())
		if err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		written += int64(n)
	}
}

// zipfTable returns cumulative weights 1/(k+1), normalised to end at 1.
func zipfTable(n int) []float64 {
	cum := make([]float64, n)
	total := 0.0
	for k := range n {
		total += 1 / float64(k+1)
		cum[k] = total
	}
	for k := range cum {
		cum[k] /= total
	}
	return cum
}

// pick returns the first index whose cumulative weight reaches u.
func pick(cum []float64, u float64) int {
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] < u {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// rng is SplitMix64: tiny, fast and fixed forever.
type rng struct{ state uint64 }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }
