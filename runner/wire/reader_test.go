package wire

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
)

// streamSamples returns SDK-encoded windowed values of mixed sizes and
// their concatenation, as the data plane would carry them.
func streamSamples(t *testing.T) (*WindowedValueCodec, [][]byte, []byte) {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 6))
	ec := elemCases()[6] // KV<bytes, iterable<string>>: variable sizes, nesting
	comps, ids := compsFor(t, coder.NewW(ec.c, coder.NewIntervalWindow()))
	c, err := NewWindowedValueCodec(comps, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	var elems [][]byte
	var stream []byte
	for _, s := range makeSamples(t, r, ec, coder.NewIntervalWindow(), 25) {
		elems = append(elems, s.enc)
		stream = append(stream, s.enc...)
	}
	return c, elems, stream
}

func feedAll(t *testing.T, r *ElementReader, chunks [][]byte) [][]byte {
	t.Helper()
	var got [][]byte
	fn := func(e []byte) error { got = append(got, e); return nil }
	for _, ch := range chunks {
		if err := r.Feed(ch, fn); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.End(fn); err != nil {
		t.Fatal(err)
	}
	return got
}

func sameElems(t *testing.T, got, want [][]byte, what string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: element %d = %x, want %x", what, i, got[i], want[i])
		}
	}
}

func TestElementReaderEverySplitPoint(t *testing.T) {
	c, elems, stream := streamSamples(t)
	for i := 0; i <= len(stream); i++ {
		r := NewElementReader(c)
		got := feedAll(t, r, [][]byte{stream[:i], stream[i:]})
		if r.Pending() != 0 {
			t.Fatalf("split %d: %d bytes pending at end", i, r.Pending())
		}
		sameElems(t, got, elems, "two chunks")
	}
}

func TestElementReaderRandomChunks(t *testing.T) {
	c, elems, stream := streamSamples(t)
	rnd := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 200; trial++ {
		var chunks [][]byte
		for rest := stream; len(rest) > 0; {
			n := min(len(rest), rnd.IntN(1+[]int{3, 40, 2000}[trial%3]))
			// Copy each chunk, so elements must not alias a reused buffer.
			chunks = append(chunks, append([]byte(nil), rest[:n]...))
			rest = rest[n:]
		}
		r := NewElementReader(c)
		got := feedAll(t, r, chunks)
		if r.Pending() != 0 {
			t.Fatalf("trial %d: %d bytes pending", trial, r.Pending())
		}
		sameElems(t, got, elems, "random chunks")
	}
	// One byte at a time.
	r := NewElementReader(c)
	var chunks [][]byte
	for i := range stream {
		chunks = append(chunks, stream[i:i+1])
	}
	sameElems(t, feedAll(t, r, chunks), elems, "byte chunks")
}

func TestElementReaderTruncatedAndErrors(t *testing.T) {
	c, elems, stream := streamSamples(t)
	r := NewElementReader(c)
	var got [][]byte
	fn := func(e []byte) error { got = append(got, e); return nil }
	if err := r.Feed(stream[:len(stream)-1], fn); err != nil {
		t.Fatal(err)
	}
	if err := r.End(fn); !errors.Is(err, ErrMalformed) || len(got) != len(elems)-1 {
		t.Errorf("truncated stream: %d elements, End = %v", len(got), err)
	}
	r.Reset()
	if r.Pending() != 0 {
		t.Error("Reset kept pending bytes")
	}
	stop := errors.New("stop")
	if err := r.Feed(stream, func([]byte) error { return stop }); err != stop {
		t.Errorf("fn error = %v, want it returned as is", err)
	}
	// Malformed input (a negative window count) is sticky.
	r.Reset()
	bad := append(AppendInstant(nil, 0), 0xff, 0xff, 0xff, 0xfe)
	if err := r.Feed(bad, func([]byte) error { return nil }); !errors.Is(err, ErrMalformed) {
		t.Errorf("malformed: %v", err)
	}
	if err := r.Feed(stream, func([]byte) error { return nil }); !errors.Is(err, ErrMalformed) {
		t.Errorf("after malformed: %v", err)
	}
}

func TestElementReaderNoAllocsInChunk(t *testing.T) {
	c, _, stream := streamSamples(t)
	r := NewElementReader(c)
	fn := func([]byte) error { return nil }
	if allocs := testing.AllocsPerRun(50, func() {
		if err := r.Feed(stream, fn); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("Feed of whole elements allocates %v times", allocs)
	}
}

// skipCounter counts a codec's Skips.
type skipCounter struct {
	Codec
	skips int
}

func (c *skipCounter) Skip(b []byte) (int, error) {
	c.skips++
	return c.Codec.Skip(b)
}

// TestElementReaderLargeElementScannedLogTimes feeds a 1 MiB element in 1 KiB chunks and
// then a small one: the large element is tried O(log n) times, not once per chunk, and
// both come out, also when the small one arrives after the large one's last try.
func TestElementReaderLargeElementScannedLogTimes(t *testing.T) {
	comps, ids := compsFor(t, coder.NewBytes())
	c, err := NewCodec(comps, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	large := AppendLengthPrefixed(nil, bytes.Repeat([]byte{7}, 1<<20))
	small := AppendLengthPrefixed(nil, []byte("tail"))
	stream := append(append([]byte(nil), large...), small...)
	for _, chunk := range []int{1 << 10, 3000, len(stream)/2 + 1} {
		counter := &skipCounter{Codec: c}
		r := NewElementReader(counter)
		var chunks [][]byte
		for rest := stream; len(rest) > 0; rest = rest[min(chunk, len(rest)):] {
			chunks = append(chunks, rest[:min(chunk, len(rest))])
		}
		sameElems(t, feedAll(t, r, chunks), [][]byte{large, small}, "large then small")
		if counter.skips > 40 {
			t.Errorf("chunks of %d: %d skips for %d chunks, want O(log n)", chunk, counter.skips, len(chunks))
		}
	}
}
