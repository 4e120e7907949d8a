package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrMalformed is wrapped by every error about bytes that can never become a
// valid encoding, however many more bytes arrive.
var ErrMalformed = errors.New("malformed encoding")

// errVarintOverflow is a varint longer than Beam's 64-bit limit.
var errVarintOverflow = fmt.Errorf("%w: varint overflows 64 bits", ErrMalformed)

// errTooLong is a length prefix no real element can have. Treating it as
// corruption keeps a stream reader from waiting forever for bytes that will
// never come.
var errTooLong = fmt.Errorf("%w: length prefix over %d bytes", ErrMalformed, maxLength)

// maxLength bounds any single length prefix (1 TiB).
const maxLength = 1 << 40

// readUvarint reads Beam's unsigned varint (the same layout as
// encoding/binary's Uvarint: 7 bits per byte, little-endian groups).
func readUvarint(b []byte) (uint64, int, error) {
	v, n := binary.Uvarint(b)
	switch {
	case n > 0:
		return v, n, nil
	case n == 0:
		return 0, 0, io.ErrUnexpectedEOF
	default:
		return 0, 0, errVarintOverflow
	}
}

// skipUvarint returns the length of the varint at the start of b without
// computing its value.
func skipUvarint(b []byte) (int, error) {
	for i := 0; i < len(b) && i < binary.MaxVarintLen64; i++ {
		if b[i] < 0x80 {
			if i == binary.MaxVarintLen64-1 && b[i] > 1 {
				return 0, errVarintOverflow
			}
			return i + 1, nil
		}
	}
	if len(b) >= binary.MaxVarintLen64 {
		return 0, errVarintOverflow
	}
	return 0, io.ErrUnexpectedEOF
}

// AppendVarInt appends Beam's varint encoding of v (the unsigned varint of
// the int64's bits, so negative values take 10 bytes).
func AppendVarInt(dst []byte, v int64) []byte {
	return binary.AppendUvarint(dst, uint64(v))
}

// DecodeVarInt decodes a Beam varint from the start of b.
func DecodeVarInt(b []byte) (int64, int, error) {
	v, n, err := readUvarint(b)
	return int64(v), n, err
}

// AppendInstant appends a Beam instant (event time in milliseconds): 8 bytes
// big-endian with the sign bit flipped, so byte order matches time order.
func AppendInstant(dst []byte, millis int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(millis)^(1<<63))
}

// DecodeInstant decodes a Beam instant from the start of b.
func DecodeInstant(b []byte) (int64, int, error) {
	if len(b) < 8 {
		return 0, 0, io.ErrUnexpectedEOF
	}
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)), 8, nil
}

// appendInt32 appends a 4-byte big-endian int32, Beam's iterable count.
func appendInt32(dst []byte, v int32) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(v))
}

func readInt32(b []byte) (int32, error) {
	if len(b) < 4 {
		return 0, io.ErrUnexpectedEOF
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

// AppendLengthPrefixed appends v as a nested bytes / length_prefix value:
// varint length then the bytes.
func AppendLengthPrefixed(dst, v []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}

// DecodeLengthPrefixed returns the payload of the length-prefixed value at
// the start of b (a sub-slice, no copy) and the total bytes consumed.
func DecodeLengthPrefixed(b []byte) ([]byte, int, error) {
	l, n, err := readUvarint(b)
	if err != nil {
		return nil, 0, err
	}
	if l > uint64(len(b)-n) {
		if l > maxLength {
			return nil, 0, errTooLong
		}
		return nil, 0, io.ErrUnexpectedEOF
	}
	end := n + int(l)
	return b[n:end], end, nil
}

// malformedf returns an error wrapping ErrMalformed.
func malformedf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
