package trigger

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrBadState is wrapped by DecodeState's errors: the bytes are not a state this
// package wrote for this trigger.
var ErrBadState = errors.New("bad trigger state")

// State is the mutable trigger state of one (window, key): a slot per node of the
// Machine's tree, so it is only meaningful with the Machine that made it. A State is not
// safe for concurrent use; the caller owns one per group and may keep only its encoding
// between calls (AppendBinary, then DecodeState).
type State struct {
	// fingerprint is the Machine's, written into the encoding so that DecodeState can
	// refuse a state written for another trigger instead of misreading it.
	fingerprint uint32
	nodes       []nodeState
}

// nodeState is one node's slot. What n means depends on the node's kind:
//   - AfterCount, Always, Default: elements seen since the node last fired or was
//     cleared;
//   - AfterProcessingTime, AfterSynchronizedProcessingTime: the processing time at
//     which it fires, when armed (Java's DELAYED_UNTIL state).
type nodeState struct {
	// finished is Java's finished bit: the node will not fire again unless a parent
	// resets it (Repeat, or the implicit repeat of early and late firings).
	finished bool
	armed    bool
	n        int64
}

// NewState returns the state of a group that has seen nothing yet.
func (m *Machine) NewState() *State {
	return &State{fingerprint: m.fingerprint, nodes: make([]nodeState, len(m.nodes))}
}

// The encoding is a version byte, the Machine's fingerprint (4 bytes, little endian),
// the node count (uvarint), then per node a flags byte and, when flagN is set, n as a
// varint. A fresh state of a two-node tree takes 8 bytes.
const (
	stateVersion = 1

	flagFinished = 1 << 0
	flagArmed    = 1 << 1
	flagN        = 1 << 2
	knownFlags   = flagFinished | flagArmed | flagN
)

// AppendBinary appends the encoding of s to b (encoding.BinaryAppender). The error is
// always nil; it is there for the interface.
func (s *State) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, stateVersion)
	b = binary.LittleEndian.AppendUint32(b, s.fingerprint)
	b = binary.AppendUvarint(b, uint64(len(s.nodes)))
	for _, ns := range s.nodes {
		var f byte
		if ns.finished {
			f |= flagFinished
		}
		if ns.armed {
			f |= flagArmed
		}
		if ns.n != 0 {
			f |= flagN
		}
		b = append(b, f)
		if ns.n != 0 {
			b = binary.AppendVarint(b, ns.n)
		}
	}
	return b, nil
}

// MarshalBinary returns the encoding of s (encoding.BinaryMarshaler).
func (s *State) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// DecodeState decodes a state AppendBinary wrote for this Machine's trigger. Its errors
// wrap ErrBadState.
func (m *Machine) DecodeState(b []byte) (*State, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w for %s: "+format, append([]any{ErrBadState, m}, args...)...)
	}
	if len(b) < 5 {
		return nil, bad("%d bytes is too short", len(b))
	}
	if b[0] != stateVersion {
		return nil, bad("unknown version %d", b[0])
	}
	if fp := binary.LittleEndian.Uint32(b[1:]); fp != m.fingerprint {
		return nil, bad("written for another trigger (fingerprint %08x, want %08x)", fp, m.fingerprint)
	}
	b = b[5:]
	count, k := binary.Uvarint(b)
	if k <= 0 || count != uint64(len(m.nodes)) {
		return nil, bad("node count %d, want %d", count, len(m.nodes))
	}
	b = b[k:]
	s := m.NewState()
	for i := range s.nodes {
		if len(b) == 0 {
			return nil, bad("truncated at node %d", i)
		}
		f := b[0]
		b = b[1:]
		if f&^knownFlags != 0 {
			return nil, bad("node %d has unknown flags %#x", i, f)
		}
		ns := &s.nodes[i]
		ns.finished = f&flagFinished != 0
		ns.armed = f&flagArmed != 0
		if f&flagN != 0 {
			v, k := binary.Varint(b)
			if k <= 0 {
				return nil, bad("node %d: bad varint", i)
			}
			ns.n = v
			b = b[k:]
		}
	}
	if len(b) != 0 {
		return nil, bad("%d trailing bytes", len(b))
	}
	return s, nil
}
