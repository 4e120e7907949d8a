package state

import (
	"bytes"
	"sort"
)

// Store is one task's keyed bag state. It is owned by a single goroutine (the task's
// mailbox loop) while it is written; a Store that is no longer written may be read
// concurrently.
type Store interface {
	// AppendBag appends a copy of value to the bag at key.
	AppendBag(key, value []byte) error
	// ReadBag calls fn for each value of the bag at key, in append order. The slice passed
	// to fn is owned by the store and must not be modified or kept.
	ReadBag(key []byte, fn func(value []byte) error) error
	// BagSize returns the number of values in the bag at key.
	BagSize(key []byte) (int, error)
	// ClearBag removes the bag at key.
	ClearBag(key []byte) error
	// ScanKeys calls fn for each non-empty bag whose key starts with prefix, in key order.
	ScanKeys(prefix []byte, fn func(key []byte) error) error
	// Close releases the store's resources.
	Close() error
}

// MemStore is an in-memory Store.
type MemStore struct {
	bags  map[string][][]byte
	bytes int64
}

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore { return &MemStore{bags: map[string][][]byte{}} }

// AppendBag implements Store.
func (m *MemStore) AppendBag(key, value []byte) error {
	k := string(key)
	m.bags[k] = append(m.bags[k], bytes.Clone(value))
	m.bytes += int64(len(value))
	return nil
}

// ReadBag implements Store.
func (m *MemStore) ReadBag(key []byte, fn func([]byte) error) error {
	for _, v := range m.bags[string(key)] {
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// BagSize implements Store.
func (m *MemStore) BagSize(key []byte) (int, error) { return len(m.bags[string(key)]), nil }

// ClearBag implements Store.
func (m *MemStore) ClearBag(key []byte) error {
	k := string(key)
	for _, v := range m.bags[k] {
		m.bytes -= int64(len(v))
	}
	delete(m.bags, k)
	return nil
}

// ScanKeys implements Store.
func (m *MemStore) ScanKeys(prefix []byte, fn func([]byte) error) error {
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
