package wire

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// ErrStateBacked is returned by IterableCodec.ForEach when the iterable ends
// in a state-backed continuation token instead of its remaining values.
var ErrStateBacked = errors.New("iterable continues in runner state")

// IterableCodec reads beam:coder:iterable:v1 and state_backed_iterable:v1
// values. Both share one layout:
//
//	int32 BE count >= 0, then count values; or
//	int32 -1, then blocks of (varint n > 0, n values), ending in either
//	varint 0, or varint -1, varint token length, token (state-backed: the
//	SDK fetches the rest from the runner's state API with the token).
//
// The Go SDK accepts the token form for plain iterables too (exec's
// makeReStream), which is how the runner can stream a huge group.
type IterableCodec struct {
	id, urn  string
	Elem     Codec
	elemSize int // fixedSizeOf(Elem)
}

func (c *IterableCodec) fixedSize() int { return -1 }

// Skip returns the length of the iterable at the start of b.
func (c *IterableCodec) Skip(b []byte) (int, error) {
	return c.walk(b, nil)
}

// ForEach calls fn with the encoding of each value of the iterable that
// starts at b (sub-slices, no copy) and returns the iterable's length. If it
// ends in a state-backed token, ForEach visits the inline values and then
// returns an error wrapping ErrStateBacked; StateToken extracts the token.
func (c *IterableCodec) ForEach(b []byte, fn func(v []byte) error) (int, error) {
	var tok []byte
	n, err := c.walkTok(b, fn, &tok)
	if err != nil {
		return 0, err
	}
	if tok != nil {
		return n, fmt.Errorf("coder %q (%s): %w", c.id, c.urn, ErrStateBacked)
	}
	return n, nil
}

// StateToken returns the continuation token of a state-backed iterable
// starting at b (a sub-slice), or nil if the iterable is fully inline.
func (c *IterableCodec) StateToken(b []byte) ([]byte, error) {
	var tok []byte
	_, err := c.walkTok(b, nil, &tok)
	return tok, err
}

func (c *IterableCodec) walk(b []byte, fn func([]byte) error) (int, error) {
	return c.walkTok(b, fn, nil)
}

// walkTok skips (and optionally visits) the iterable at b.
func (c *IterableCodec) walkTok(b []byte, fn func([]byte) error, tok *[]byte) (int, error) {
	count, err := readInt32(b)
	if err != nil {
		return 0, err
	}
	n := 4
	if count >= 0 {
		m, err := c.values(b[n:], uint64(count), fn)
		return n + m, err
	}
	if count != -1 {
		return 0, c.malformed("iterable count %d", count)
	}
	for {
		blk, m, err := DecodeVarInt(b[n:])
		if err != nil {
			return 0, wrapErr(c.id, c.urn, err)
		}
		n += m
		switch {
		case blk == 0:
			return n, nil
		case blk > 0:
			m, err := c.values(b[n:], uint64(blk), fn)
			if err != nil {
				return 0, err
			}
			n += m
		case blk == -1:
			t, m, err := DecodeLengthPrefixed(b[n:])
			if err != nil {
				return 0, wrapErr(c.id, c.urn, err)
			}
			if tok != nil {
				*tok = t
			}
			return n + m, nil
		default:
			return 0, c.malformed("iterable block size %d", blk)
		}
	}
}

// values skips count consecutive values.
func (c *IterableCodec) values(b []byte, count uint64, fn func([]byte) error) (int, error) {
	if c.elemSize >= 0 && fn == nil {
		// Fixed-size values: no need to look at them, and a huge count of
		// zero-size values (global windows) costs nothing.
		if c.elemSize > 0 && count > uint64(math.MaxInt/c.elemSize) {
			return 0, c.malformed("iterable of %d values of %d bytes", count, c.elemSize)
		}
		total := int(count) * c.elemSize
		if total > len(b) {
			return 0, io.ErrUnexpectedEOF
		}
		return total, nil
	}
	if c.elemSize == 0 {
		// fn must be called count times for empty values; refuse
		// absurd counts rather than spinning.
		if count > math.MaxInt32 {
			return 0, c.malformed("iterable of %d empty values", count)
		}
	}
	n := 0
	for i := uint64(0); i < count; i++ {
		m, err := c.Elem.Skip(b[n:])
		if err != nil {
			return 0, err
		}
		if fn != nil {
			if err := fn(b[n : n+m]); err != nil {
				return 0, err
			}
		}
		n += m
	}
	return n, nil
}

func (c *IterableCodec) malformed(format string, args ...any) error {
	return fmt.Errorf("coder %q (%s): %w: %s", c.id, c.urn, ErrMalformed, fmt.Sprintf(format, args...))
}

// AppendIterable appends values (already encoded) as a Beam iterable of
// known length: int32 BE count, then the values.
func AppendIterable(dst []byte, values [][]byte) []byte {
	dst = appendInt32(dst, int32(len(values)))
	for _, v := range values {
		dst = append(dst, v...)
	}
	return dst
}

// The chunked form lets the runner stream a group whose size it does not
// know up front: AppendIterableStart, any number of AppendIterableBlock,
// then AppendIterableEnd or AppendIterableStateToken.

// AppendIterableStart appends the int32 -1 that opens a chunked iterable.
func AppendIterableStart(dst []byte) []byte { return appendInt32(dst, -1) }

// AppendIterableBlock appends one block of a chunked iterable. An empty
// block is skipped, since a zero count would end the iterable.
func AppendIterableBlock(dst []byte, values [][]byte) []byte {
	if len(values) == 0 {
		return dst
	}
	dst = AppendVarInt(dst, int64(len(values)))
	for _, v := range values {
		dst = append(dst, v...)
	}
	return dst
}

// AppendIterableEnd appends the zero block count that closes a chunked
// iterable.
func AppendIterableEnd(dst []byte) []byte { return AppendVarInt(dst, 0) }

// AppendIterableStateToken closes a chunked iterable with a continuation
// token: the SDK reads the remaining values from the runner's state API
// (StateKey.Runner with this key).
func AppendIterableStateToken(dst, token []byte) []byte {
	dst = AppendVarInt(dst, -1)
	return AppendLengthPrefixed(dst, token)
}
