package state

import (
	"bytes"
	"cmp"
	"slices"
	"sort"
)

// Store is one task's keyed bag state: bags of byte values under byte keys. It is owned
// by a single goroutine (the task's mailbox loop) while it is written; a Store that is no
// longer written may be read concurrently.
//
// A bag's values read back in append order; bags are scanned in key order. Keys are the
// callers' business: any bytes, including 0x00.
type Store interface {
	// AppendBag appends a copy of value to the bag at key.
	AppendBag(key, value []byte) error
	// ReadBag calls fn for each value of the bag at key, in append order. The slice passed
	// to fn is owned by the store and valid only until fn returns: it must not be
	// modified or kept. fn may call the store.
	ReadBag(key []byte, fn func(value []byte) error) error
	// ReadBagFrom is ReadBag from the value after cursor from (the zero BagCursor: from
	// the first value), passing fn each value's cursor too: a reader that stops can
	// resume after the last value it took without reading the bag from its start again.
	ReadBagFrom(key []byte, from BagCursor, fn func(value []byte, at BagCursor) error) error
	// BagSize returns the number of values in the bag at key.
	BagSize(key []byte) (int, error)
	// ClearBag removes the bag at key.
	ClearBag(key []byte) error
	// ScanKeys calls fn for each non-empty bag whose key starts with prefix, in key order
	// (bytewise), once per bag. fn may keep key, and may call the store: bags it clears
	// or appends to meanwhile may or may not be visited.
	ScanKeys(prefix []byte, fn func(key []byte) error) error
	// Close releases the store's resources; later calls fail with ErrClosed. What it
	// does to the data is the backend's business (MemStore drops it; a PebbleDB store
	// leaves it to DropNamespace).
	Close() error
}

// BagCursor is a place in a bag, after one of its values (see Store.ReadBagFrom). It stays
// meaningful while the bag changes: values appended later come after it, and after a
// clear it is before every value appended since. The store numbers values in append order
// across all bags; that number is the cursor after a value.
type BagCursor uint64

// MemStore is an in-memory Store.
type MemStore struct {
	bags  map[string][]memValue
	seq   BagCursor // of the last value appended
	bytes int64
}

type memValue struct {
	at BagCursor
	v  []byte
}

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore { return &MemStore{bags: map[string][]memValue{}} }

// AppendBag implements Store.
func (m *MemStore) AppendBag(key, value []byte) error {
	if m.bags == nil {
		return ErrClosed
	}
	k := string(key)
	m.seq++
	m.bags[k] = append(m.bags[k], memValue{at: m.seq, v: bytes.Clone(value)})
	m.bytes += int64(len(value))
	return nil
}

// ReadBag implements Store.
func (m *MemStore) ReadBag(key []byte, fn func([]byte) error) error {
	return m.ReadBagFrom(key, 0, func(v []byte, _ BagCursor) error { return fn(v) })
}

// ReadBagFrom implements Store.
func (m *MemStore) ReadBagFrom(key []byte, from BagCursor, fn func([]byte, BagCursor) error) error {
	if m.bags == nil {
		return ErrClosed
	}
	vs := m.bags[string(key)]
	i, _ := slices.BinarySearchFunc(vs, from+1, func(v memValue, at BagCursor) int { return cmp.Compare(v.at, at) })
	for _, v := range vs[i:] {
		if err := fn(v.v, v.at); err != nil {
			return err
		}
	}
	return nil
}

// BagSize implements Store.
func (m *MemStore) BagSize(key []byte) (int, error) {
	if m.bags == nil {
		return 0, ErrClosed
	}
	return len(m.bags[string(key)]), nil
}

// ClearBag implements Store.
func (m *MemStore) ClearBag(key []byte) error {
	if m.bags == nil {
		return ErrClosed
	}
	k := string(key)
	for _, v := range m.bags[k] {
		m.bytes -= int64(len(v.v))
	}
	delete(m.bags, k)
	return nil
}

// ScanKeys implements Store.
func (m *MemStore) ScanKeys(prefix []byte, fn func([]byte) error) error {
	if m.bags == nil {
		return ErrClosed
	}
	keys := make([]string, 0, len(m.bags))
	for k := range m.bags {
		if len(m.bags[k]) > 0 && bytes.HasPrefix([]byte(k), prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn([]byte(k)); err != nil {
			return err
		}
	}
	return nil
}

// Bytes returns the total size of stored values.
func (m *MemStore) Bytes() int64 { return m.bytes }

// Close implements Store.
func (m *MemStore) Close() error {
	m.bags = nil
	return nil
}
