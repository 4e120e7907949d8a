// Package state holds the runner's keyed state: the buffers a task keeps between records
// (GroupByKey groups, side-input materializations, later Beam user state and timers).
//
// The Store interface is deliberately small: bags of byte values under byte keys, scanned
// in key order. Callers build keys from their own prefixes (key group, state id, window,
// user key), so a backend only sorts and stores bytes. MemStore is the in-memory backend;
// a Pebble backend goes behind the same interface.
package state
