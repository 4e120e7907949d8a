package state

import (
	"encoding/binary"
	"errors"
)

// Key encoding of the Pebble backend (see doc.go for the whole layout).
//
// Byte strings that are followed by more key bytes (namespace names, callers' bag keys)
// are escaped and terminated: 0x00 becomes 0x00 0xFF and the string ends with 0x00 0x01.
// That keeps them prefix-free (no encoded string is a prefix of another) and
// order-preserving (encoded strings sort as the raw strings do), so a caller's key order
// is the order of bags in Pebble, and the encoding of a prefix is a prefix of the encoding
// of every key that starts with it.
const (
	escByte     = 0x00
	escZero     = 0xFF // 0x00 0xFF is an escaped 0x00
	escTerm     = 0x01 // 0x00 0x01 ends an escaped string
	bagsKeyByte = 0x02 // 0x00 0x02 after a namespace starts its store's bags

	// Top-level keyspaces: the first byte of every key.
	metaSpace = 0x00 // the database's own records
	nsSpace   = 0x01 // namespaces: every store's data
)

// seqKey holds the sequence lease: every bag value's sequence number is below it.
var seqKey = []byte{metaSpace, 's', 'e', 'q'}

// appendEscaped appends the escaped form of s (without terminator) to dst.
func appendEscaped(dst, s []byte) []byte {
	for _, c := range s {
		if c == escByte {
			dst = append(dst, escByte, escZero)
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// appendTerminated appends s escaped and terminated.
func appendTerminated(dst, s []byte) []byte {
	return append(appendEscaped(dst, s), escByte, escTerm)
}

var errBadKey = errors.New("state: malformed key in the store")

// unescapeTerminated decodes the escaped, terminated string at the start of b and returns
// it (a new slice) and the number of bytes of b it took, terminator included.
func unescapeTerminated(b []byte) ([]byte, int, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != escByte {
			out = append(out, b[i])
			continue
		}
		if i+1 == len(b) {
			return nil, 0, errBadKey
		}
		switch b[i+1] {
		case escZero:
			out = append(out, escByte)
			i++
		case escTerm:
			return out, i + 2, nil
		default:
			return nil, 0, errBadKey
		}
	}
	return nil, 0, errBadKey
}

// Namespace returns the namespace of a path of names, such as (job id, stage, subtask,
// store). Each name is escaped and terminated, so the namespace of a path is a prefix of
// the namespace of every longer path that starts with it, and of no other:
// PebbleDB.DropNamespace(Namespace(job)) drops the state of every task of the job.
func Namespace(path ...string) []byte {
	n := 0
	for _, p := range path {
		n += len(p) + 2
	}
	ns := make([]byte, 0, n)
	for _, p := range path {
		ns = appendTerminated(ns, []byte(p))
	}
	return ns
}

// keyspaceOf returns the Pebble key prefix of everything under namespace ns.
func keyspaceOf(ns []byte) []byte {
	return append([]byte{nsSpace}, ns...)
}

// bagsPrefix returns the prefix of the bag keys of the store at namespace ns.
func bagsPrefix(ns []byte) []byte {
	return append(keyspaceOf(ns), escByte, bagsKeyByte)
}

// After a bag's terminated key: its header (the generation, see pebbleStore) or one of
// its values.
const (
	bagHeader = 0x00 // | generation (uint64 BE) as the value
	bagValue  = 0x01 // | seq (uint64 BE)
)

// appendValueKey appends the key of value seq of the bag at key to the store prefix p.
func appendValueKey(p, key []byte, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append(appendTerminated(p, key), bagValue), seq)
}

// prefixSuccessor returns the smallest key greater than every key that starts with p, or
// nil if there is none (p is empty or all 0xFF).
func prefixSuccessor(p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xFF {
			s := append([]byte(nil), p[:i+1]...)
			s[i]++
			return s
		}
	}
	return nil
}
