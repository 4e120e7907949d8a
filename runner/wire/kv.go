package wire

import (
	"fmt"
)

// KVCodec reads beam:coder:kv:v1 values: the key then the value.
type KVCodec struct {
	id         string
	Key, Value Codec
}

func (c *KVCodec) fixedSize() int {
	k, v := fixedSizeOf(c.Key), fixedSizeOf(c.Value)
	if k < 0 || v < 0 {
		return -1
	}
	return k + v
}

// Skip returns the length of the KV at the start of b.
func (c *KVCodec) Skip(b []byte) (int, error) {
	n, err := c.Key.Skip(b)
	if err != nil {
		return 0, err
	}
	m, err := c.Value.Skip(b[n:])
	if err != nil {
		return 0, err
	}
	return n + m, nil
}

// Split cuts one encoded KV element into its key and value encodings
// (sub-slices of elem, no copy). elem must be exactly one element, as
// WindowedValue.Element is, so the value is everything after the key; the
// key bytes are what the runner hashes and compares to group by key, which is
// sound because the key coder is deterministic by contract of GroupByKey.
func (c *KVCodec) Split(elem []byte) (key, value []byte, err error) {
	n, err := c.Key.Skip(elem)
	if err != nil {
		return nil, nil, fmt.Errorf("splitting KV element of coder %q: key: %w", c.id, err)
	}
	return elem[:n], elem[n:], nil
}

// AppendKV appends a KV encoding from already-encoded key and value.
func AppendKV(dst, key, value []byte) []byte {
	dst = append(dst, key...)
	return append(dst, value...)
}

// AppendGroup appends a GroupByKey output element KV<K, Iterable<V>> with a
// known count: the key encoding then the values as a Beam iterable.
func AppendGroup(dst, key []byte, values [][]byte) []byte {
	dst = append(dst, key...)
	return AppendIterable(dst, values)
}
