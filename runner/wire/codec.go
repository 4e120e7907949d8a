package wire

import (
	"errors"
	"fmt"
	"io"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

// ErrUnknownCoder is wrapped when a coder cannot be parsed by the runner;
// the fix is to run the coder through LengthPrefixUnknownCoders first.
var ErrUnknownCoder = errors.New("coder not parseable by the runner")

// maxCoderDepth bounds coder nesting so a malicious or cyclic coder graph
// cannot overflow the stack.
const maxCoderDepth = 64

// Codec reads one value of a coder the runner understands.
type Codec interface {
	// Skip returns the length in bytes of the first encoded value in b.
	// It returns io.ErrUnexpectedEOF (unwrapped) if b ends inside the value.
	Skip(b []byte) (n int, err error)
}

// sized is implemented by every codec built here: fixedSize is the encoded
// length if all values have the same length, else -1. Iterables use it to
// skip runs of fixed-size values (notably zero-size ones) in O(1).
type sized interface {
	fixedSize() int
}

func fixedSizeOf(c Codec) int {
	if s, ok := c.(sized); ok {
		return s.fixedSize()
	}
	return -1
}

// NewCodec returns a codec for the coder with id coderID in comps. Every
// coder in the tree must be one the runner understands (see
// IsKnownCoderURN); otherwise the error wraps ErrUnknownCoder and names it.
func NewCodec(comps *pipepb.Components, coderID string) (Codec, error) {
	return build(comps, coderID, 0)
}

func urnOf(comps *pipepb.Components, id string) string {
	return comps.GetCoders()[id].GetSpec().GetUrn()
}

// wrapErr names the coder in a decoding error. Incomplete input stays the
// bare io.ErrUnexpectedEOF so stream readers can test for it cheaply.
// It is small enough to inline: skips call it on every value, nearly always with nil.
func wrapErr(id, urn string, err error) error {
	if err == nil || err == io.ErrUnexpectedEOF {
		return err
	}
	return nameCoder(id, urn, err)
}

func nameCoder(id, urn string, err error) error {
	return fmt.Errorf("coder %q (%s): %w", id, urn, err)
}

func build(comps *pipepb.Components, id string, depth int) (Codec, error) {
	if depth > maxCoderDepth {
		return nil, fmt.Errorf("coder %q nests deeper than %d levels: %w", id, maxCoderDepth, ErrMalformed)
	}
	c, ok := comps.GetCoders()[id]
	if !ok || c == nil {
		return nil, fmt.Errorf("coder %q not found in pipeline components", id)
	}
	urn := c.GetSpec().GetUrn()
	if want, ok := compositeArity[urn]; ok && len(c.GetComponentCoderIds()) != want {
		return nil, fmt.Errorf("coder %q (%s) has %d components, want %d: %w",
			id, urn, len(c.GetComponentCoderIds()), want, ErrMalformed)
	}
	sub := func(i int) (Codec, error) {
		cc, err := build(comps, c.GetComponentCoderIds()[i], depth+1)
		if err != nil {
			return nil, fmt.Errorf("component %d of coder %q (%s): %w", i, id, urn, err)
		}
		return cc, nil
	}
	subWindow := func(i int) (WindowCodec, error) {
		cc, err := sub(i)
		if err != nil {
			return nil, err
		}
		wc, ok := cc.(WindowCodec)
		if !ok {
			cid := c.GetComponentCoderIds()[i]
			return nil, fmt.Errorf("component %d of coder %q (%s): coder %q (%s) is not a window coder the runner can read: %w",
				i, id, urn, cid, urnOf(comps, cid), ErrUnknownCoder)
		}
		return wc, nil
	}

	switch urn {
	case URNBytes, URNStringUTF8, URNLengthPrefix:
		// All three are a varint length then bytes in the nested context.
		return lengthPrefixedCodec{id: id, urn: urn}, nil
	case URNVarInt:
		return varIntCodec{id: id}, nil
	case URNDouble:
		return fixedCodec(8), nil
	case URNBool:
		return fixedCodec(1), nil
	case URNGlobalWindow:
		return globalWindowCodec{}, nil
	case URNIntervalWindow:
		return intervalWindowCodec{}, nil
	case URNCustomWindow:
		w, err := sub(0)
		if err != nil {
			return nil, err
		}
		return &customWindowCodec{id: id, urn: urn, win: w}, nil
	case URNKV:
		k, err := sub(0)
		if err != nil {
			return nil, err
		}
		v, err := sub(1)
		if err != nil {
			return nil, err
		}
		return &KVCodec{id: id, Key: k, Value: v}, nil
	case URNIterable, URNStateBackedIterable:
		e, err := sub(0)
		if err != nil {
			return nil, err
		}
		return &IterableCodec{id: id, urn: urn, Elem: e, elemSize: fixedSizeOf(e)}, nil
	case URNShardedKey:
		k, err := sub(0)
		if err != nil {
			return nil, err
		}
		return &shardedKeyCodec{id: id, key: k}, nil
	case URNNullable:
		v, err := sub(0)
		if err != nil {
			return nil, err
		}
		return &nullableCodec{id: id, value: v}, nil
	case URNTimer:
		k, err := sub(0)
		if err != nil {
			return nil, err
		}
		w, err := subWindow(1)
		if err != nil {
			return nil, err
		}
		return &TimerCodec{id: id, Key: k, Window: w}, nil
	case URNWindowedValue, URNParamWindowedValue:
		e, err := sub(0)
		if err != nil {
			return nil, err
		}
		w, err := subWindow(1)
		if err != nil {
			return nil, err
		}
		return newWindowedValueCodec(id, urn, c.GetSpec().GetPayload(), e, w)
	default:
		return nil, fmt.Errorf("coder %q (%s): %w; wrap it with LengthPrefixUnknownCoders", id, urn, ErrUnknownCoder)
	}
}

// lengthPrefixedCodec skips bytes, string_utf8 and length_prefix values.
type lengthPrefixedCodec struct{ id, urn string }

func (lengthPrefixedCodec) fixedSize() int { return -1 }
func (c lengthPrefixedCodec) Skip(b []byte) (int, error) {
	_, n, err := DecodeLengthPrefixed(b)
	return n, wrapErr(c.id, c.urn, err)
}

type varIntCodec struct{ id string }

func (varIntCodec) fixedSize() int { return -1 }
func (c varIntCodec) Skip(b []byte) (int, error) {
	n, err := skipUvarint(b)
	return n, wrapErr(c.id, URNVarInt, err)
}

// fixedCodec skips values of a constant size (double: 8, bool: 1).
type fixedCodec int

func (c fixedCodec) fixedSize() int { return int(c) }
func (c fixedCodec) Skip(b []byte) (int, error) {
	if len(b) < int(c) {
		return 0, io.ErrUnexpectedEOF
	}
	return int(c), nil
}

// shardedKeyCodec: shard id as bytes, then the user key.
type shardedKeyCodec struct {
	id  string
	key Codec
}

func (c *shardedKeyCodec) fixedSize() int { return -1 }
func (c *shardedKeyCodec) Skip(b []byte) (int, error) {
	_, n, err := DecodeLengthPrefixed(b)
	if err != nil {
		return 0, wrapErr(c.id, URNShardedKey, err)
	}
	m, err := c.key.Skip(b[n:])
	if err != nil {
		return 0, err
	}
	return n + m, nil
}

// nullableCodec: 0x00 for null, or 0x01 then the value.
type nullableCodec struct {
	id    string
	value Codec
}

func (c *nullableCodec) fixedSize() int { return -1 }
func (c *nullableCodec) Skip(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	switch b[0] {
	case 0:
		return 1, nil
	case 1:
		n, err := c.value.Skip(b[1:])
		if err != nil {
			return 0, err
		}
		return 1 + n, nil
	default:
		return 0, wrapErr(c.id, URNNullable, fmt.Errorf("%w: null indicator byte %#x", ErrMalformed, b[0]))
	}
}
