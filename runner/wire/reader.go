package wire

import (
	"fmt"
	"io"
)

// ElementReader cuts a byte stream into encoded elements. Fn API data
// arrives in chunks that may split an element anywhere, so the reader keeps
// the unfinished tail of one chunk and completes it from the next.
type ElementReader struct {
	codec Codec
	carry []byte // start of an element whose end has not arrived yet
	// tryAt is the carry's length at which cutting it is tried again: twice the length
	// of the last try, so that an element spread over many chunks is scanned O(log n)
	// times, not once per chunk.
	tryAt int
	err   error // sticky: after malformed input the stream cannot resync
}

// NewElementReader returns a reader of values of c, usually the
// *WindowedValueCodec of a data-plane port.
func NewElementReader(c Codec) *ElementReader {
	return &ElementReader{codec: c}
}

// Feed calls fn for every element completed by chunk, with the element's
// whole encoded bytes. An element that lies inside chunk is a sub-slice of
// it; one that straddles chunks is in a fresh buffer that the reader never
// reuses. So elem stays valid as long as the caller does not modify chunk.
// An element that straddles chunks may be passed on a few chunks after its
// end arrived (see tryAt), and End passes on what is left when the stream ends.
// An error from fn stops Feed and is returned as is; the elements after it
// in chunk are dropped, so the caller should treat the stream as failed.
func (r *ElementReader) Feed(chunk []byte, fn func(elem []byte) error) error {
	if r.err != nil {
		return r.err
	}
	if len(r.carry) > 0 {
		rest, done, err := r.CompleteCarry(chunk, fn)
		if err != nil || !done {
			return err
		}
		chunk = rest
	}
	for len(chunk) > 0 {
		n, err := r.codec.Skip(chunk)
		if err == io.ErrUnexpectedEOF {
			r.Carry(chunk)
			return nil
		}
		if err != nil {
			return r.fail(err)
		}
		if n == 0 {
			return r.fail(fmt.Errorf("%w: zero-length element", ErrMalformed))
		}
		if err := fn(chunk[:n:n]); err != nil {
			return err
		}
		chunk = chunk[n:]
	}
	return nil
}

// Carry starts carrying b (copied), the start of an element that continues in the
// chunks to come.
func (r *ElementReader) Carry(b []byte) {
	r.carry = append(make([]byte, 0, 2*len(b)), b...)
	r.tryAt = len(b) + max(len(b), 64)
}

// CompleteCarry moves bytes from chunk into the carried element. Once the element is
// complete it calls fn with it and returns the stream's bytes after it (within chunk, or
// a fresh buffer) and done; while the element goes on past chunk it returns done false.
func (r *ElementReader) CompleteCarry(chunk []byte, fn func(elem []byte) error) (rest []byte, done bool, err error) {
	if r.err != nil {
		return nil, false, r.err
	}
	used := 0
	for {
		take := min(len(chunk)-used, r.tryAt-len(r.carry))
		if need := len(r.carry) + take; need > cap(r.carry) {
			// Doubled, not grown by append's quarter for large slices: a large element's
			// bytes are copied O(1) times, not O(log n).
			r.carry = append(make([]byte, 0, max(need, 2*cap(r.carry))), r.carry...)
		}
		r.carry = append(r.carry, chunk[used:used+take]...)
		used += take
		if len(r.carry) < r.tryAt {
			return nil, false, nil // chunk used up before a try was due
		}
		n, err := r.codec.Skip(r.carry)
		if err == io.ErrUnexpectedEOF {
			r.tryAt = 2 * len(r.carry)
			if used == len(chunk) {
				return nil, false, nil
			}
			continue
		}
		if err != nil {
			return nil, false, r.fail(err)
		}
		// The element ended inside what the carry took since the last try: give the
		// rest back, from chunk if all of it came from chunk.
		extra := len(r.carry) - n
		if extra <= used {
			rest = chunk[used-extra:]
		} else {
			rest = append(r.carry[n:len(r.carry):len(r.carry)], chunk[used:]...)
		}
		elem := r.carry[:n:n]
		r.carry = nil
		if err := fn(elem); err != nil {
			return nil, false, err
		}
		return rest, true, nil
	}
}

// End is the end of the stream: it passes on the elements still carried, and says if the
// stream ended inside an element.
func (r *ElementReader) End(fn func(elem []byte) error) error {
	if r.err != nil || len(r.carry) == 0 {
		return r.err
	}
	carry := r.carry
	r.carry = nil
	if err := r.Feed(carry, fn); err != nil {
		return err
	}
	if len(r.carry) > 0 {
		return fmt.Errorf("%w: the stream ended inside an element (%d bytes left over)", ErrMalformed, len(r.carry))
	}
	return nil
}

func (r *ElementReader) fail(err error) error {
	r.err = fmt.Errorf("cutting data stream into elements: %w", err)
	r.carry = nil
	return r.err
}

// Pending is the number of bytes of an unfinished element carried over; after the
// stream's end, End says whether they make whole elements.
func (r *ElementReader) Pending() int { return len(r.carry) }

// Reset drops any carried bytes and a previous error, for reuse on a new
// stream.
func (r *ElementReader) Reset() {
	r.carry, r.err = nil, nil
}
