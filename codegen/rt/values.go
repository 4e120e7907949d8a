package rt

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/sluice-runner/sluice/runner/wire"
)

// Signed is the Go integer types the SDK encodes with its varintz coder.
type Signed interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64
}

// AppendBytes appends Beam's bytes coder: varint length, then b.
func AppendBytes(dst, b []byte) []byte { return wire.AppendLengthPrefixed(dst, b) }

// DecodeBytes decodes a bytes value; the result aliases b.
func DecodeBytes(b []byte) ([]byte, int, error) {
	v, n, err := wire.DecodeLengthPrefixed(b)
	return v[:len(v):len(v)], n, err
}

// AppendString appends Beam's string_utf8 coder: varint length, then the bytes.
func AppendString(dst []byte, s string) []byte {
	return append(wire.AppendVarInt(dst, int64(len(s))), s...)
}

// DecodeString decodes a string_utf8 value (copying it out of b).
func DecodeString(b []byte) (string, int, error) {
	v, n, err := DecodeBytes(b)
	return string(v), n, err
}

// AppendVarInt appends Beam's varint coder of an int64.
func AppendVarInt(dst []byte, v int64) []byte { return wire.AppendVarInt(dst, v) }

// DecodeVarInt decodes Beam's varint coder of an int64.
func DecodeVarInt(b []byte) (int64, int, error) { return wire.DecodeVarInt(b) }

// AppendVarIntZ appends the Go SDK's varintz coder of an int type as it travels: a custom
// coder, so length-prefixed (one byte: a zig-zag varint takes at most 10).
func AppendVarIntZ[T Signed](dst []byte, v T) []byte {
	var buf [binary.MaxVarintLen64]byte
	n := binary.PutVarint(buf[:], int64(v))
	return append(append(dst, byte(n)), buf[:n]...)
}

// DecodeVarIntZ decodes a length-prefixed varintz value into T, refusing values T cannot hold.
func DecodeVarIntZ[T Signed](b []byte) (T, int, error) {
	payload, n, err := DecodeBytes(b)
	if err != nil {
		return 0, 0, err
	}
	v, m := binary.Varint(payload)
	if m <= 0 || m != len(payload) {
		return 0, 0, fmt.Errorf("%w: bad varintz %x", wire.ErrMalformed, payload)
	}
	if t := T(v); int64(t) == v {
		return t, n, nil
	}
	return 0, 0, fmt.Errorf("%w: varintz %d overflows %T", wire.ErrMalformed, v, T(0))
}

// AppendDouble appends Beam's double coder: the IEEE 754 bits, big endian.
func AppendDouble(dst []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(v))
}

// DecodeDouble decodes Beam's double coder.
func DecodeDouble(b []byte) (float64, int, error) {
	if len(b) < 8 {
		return 0, 0, io.ErrUnexpectedEOF
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), 8, nil
}

// AppendBool appends Beam's bool coder: one byte, 0 or 1.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// DecodeBool decodes Beam's bool coder.
func DecodeBool(b []byte) (bool, int, error) {
	if len(b) < 1 {
		return false, 0, io.ErrUnexpectedEOF
	}
	switch b[0] {
	case 0:
		return false, 1, nil
	case 1:
		return true, 1, nil
	}
	return false, 0, fmt.Errorf("%w: bool byte %#x", wire.ErrMalformed, b[0])
}

// AppendIterable appends vs as a Beam iterable of known length (int32 count, then each
// value as enc writes it), the form the Go SDK writes.
func AppendIterable[T any](dst []byte, vs []T, enc func([]byte, T) []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(vs)))
	for _, v := range vs {
		dst = enc(dst, v)
	}
	return dst
}

// DecodeIterable decodes a Beam iterable whose values dec decodes, in either form a
// runner writes: int32 count then values, or -1 then blocks (varint count, values) ended by
// a zero count. A block list ended by a state token (the rest of a large group in runner
// state) is not handled here: it returns an error saying so (see DecodeValues).
func DecodeIterable[T any](b []byte, dec func([]byte) (T, int, error)) ([]T, int, error) {
	out, token, n, err := decodeIterable(b, dec)
	if err == nil && token != nil {
		return nil, 0, fmt.Errorf("iterable continues in runner state: not decodable from bytes alone")
	}
	return out, n, err
}

// decodeIterable decodes an iterable's values and, if it ends in one, its state token
// (aliasing b).
func decodeIterable[T any](b []byte, dec func([]byte) (T, int, error)) (out []T, token []byte, n int, err error) {
	if len(b) < 4 {
		return nil, nil, 0, io.ErrUnexpectedEOF
	}
	count, n := int32(binary.BigEndian.Uint32(b)), 4
	if count < -1 {
		return nil, nil, 0, fmt.Errorf("%w: iterable count %d", wire.ErrMalformed, count)
	}
	values := func(k int64) error {
		for ; k > 0; k-- {
			v, m, err := dec(b[n:])
			if err != nil {
				return err
			}
			out, n = append(out, v), n+m
		}
		return nil
	}
	if count >= 0 {
		// Every value takes a byte or more: a count beyond the bytes left is malformed
		// or truncated, and must not size the allocation.
		out = make([]T, 0, min(int(count), len(b)-n))
		if err := values(int64(count)); err != nil {
			return nil, nil, 0, err
		}
		return out, nil, n, nil
	}
	for {
		k, m, err := wire.DecodeVarInt(b[n:])
		if err != nil {
			return nil, nil, 0, err
		}
		n += m
		switch {
		case k == 0:
			return out, nil, n, nil
		case k == -1:
			token, m, err := wire.DecodeLengthPrefixed(b[n:])
			if err != nil {
				return nil, nil, 0, err
			}
			return out, token, n + m, nil
		case k < 0:
			return nil, nil, 0, fmt.Errorf("%w: iterable block size %d", wire.ErrMalformed, k)
		}
		if err := values(k); err != nil {
			return nil, nil, 0, err
		}
	}
}
