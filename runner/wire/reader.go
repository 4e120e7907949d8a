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
	err   error  // sticky: after malformed input the stream cannot resync
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
// An error from fn stops Feed and is returned as is; the elements after it
// in chunk are dropped, so the caller should treat the stream as failed.
func (r *ElementReader) Feed(chunk []byte, fn func(elem []byte) error) error {
	if r.err != nil {
		return r.err
	}
	if len(r.carry) > 0 {
		used, err := r.completeCarry(chunk, fn)
		if err != nil || used < 0 {
			return err
		}
		chunk = chunk[used:]
	}
	for len(chunk) > 0 {
		n, err := r.codec.Skip(chunk)
		if err == io.ErrUnexpectedEOF {
			r.carry = append(make([]byte, 0, 2*len(chunk)), chunk...)
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

// completeCarry moves bytes from chunk into the carry until the carried
// element is complete, then emits it. It returns how many bytes of chunk it
// used, or -1 if all of chunk went into the carry and the element is still
// incomplete. Bytes are added in growing steps so that completing a small
// element does not copy a whole large chunk, while a large element is still
// re-scanned only O(log size) times.
func (r *ElementReader) completeCarry(chunk []byte, fn func([]byte) error) (int, error) {
	used := 0
	for {
		step := max(len(r.carry), 64)
		take := min(step, len(chunk)-used)
		r.carry = append(r.carry, chunk[used:used+take]...)
		used += take
		n, err := r.codec.Skip(r.carry)
		if err == io.ErrUnexpectedEOF {
			if used == len(chunk) {
				return -1, nil
			}
			continue
		}
		if err != nil {
			return 0, r.fail(err)
		}
		// The element ended inside what we just appended; give the rest
		// back to the chunk.
		extra := len(r.carry) - n
		elem := r.carry[:n:n]
		r.carry = nil
		if err := fn(elem); err != nil {
			return 0, err
		}
		return used - extra, nil
	}
}

func (r *ElementReader) fail(err error) error {
	r.err = fmt.Errorf("cutting data stream into elements: %w", err)
	r.carry = nil
	return r.err
}

// Pending is the number of bytes of an unfinished element carried over. It
// must be 0 when the stream ends; otherwise the stream was truncated.
func (r *ElementReader) Pending() int { return len(r.carry) }

// Reset drops any carried bytes and a previous error, for reuse on a new
// stream.
func (r *ElementReader) Reset() {
	r.carry, r.err = nil, nil
}
