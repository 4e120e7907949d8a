package worker

import (
	"math/bits"
	"sync"

	"github.com/sluice-runner/sluice/state"
)

// groupBlockBytes is the size past which a group's values in memory go on in a new block
// rather than in a grown copy of the old one.
const groupBlockBytes = 1 << 20

// groupValues are the encoded values of a group, concatenated. A group starts in one slice
// grown by append, which is all a small group ever needs (one allocation, no pointer per
// value); past groupBlockBytes further values go to new blocks, so that a hot key's group
// of many megabytes is not copied over and over as it grows. Blocks come from, and go back
// to, largeBuffers: fresh memory costs far more than copying (page faults, the heap
// growing), so a hot key's pane after pane, or job after job, reuse the same blocks.
type groupValues struct {
	full [][]byte // blocks filled up, in order
	last []byte
	size int
}

func (v *groupValues) add(value []byte) {
	if len(v.last)+len(value) > cap(v.last) && len(v.last) >= groupBlockBytes {
		v.full = append(v.full, v.last)
		v.last = getLargeBuffer(max(groupBlockBytes, len(value)))
	}
	v.last = append(v.last, value...)
	v.size += len(value)
}

// addAll adds o's values after v's.
func (v *groupValues) addAll(o *groupValues) {
	for _, b := range o.full {
		v.add(b)
	}
	v.add(o.last)
}

// appendTo appends the values to dst.
func (v *groupValues) appendTo(dst []byte) []byte {
	for _, b := range v.full {
		dst = append(dst, b...)
	}
	return append(dst, v.last...)
}

// blocks appends the values to dst as the blocks that hold them.
func (v *groupValues) blocks(dst [][]byte) [][]byte {
	dst = append(dst, v.full...)
	if len(v.last) > 0 {
		dst = append(dst, v.last)
	}
	return dst
}

// reset forgets the values. A group of one block keeps it for its next pane; the blocks of
// a larger one go back to largeBuffers.
func (v *groupValues) reset() {
	if len(v.full) == 0 {
		v.last, v.size = v.last[:0], 0
		return
	}
	for _, b := range v.full {
		putLargeBuffer(b)
	}
	putLargeBuffer(v.last)
	*v = groupValues{}
}

// largeBuffers recycles buffers of a MiB or more, by size class: class c holds buffers
// whose capacity is at least 1<<c. sync.Pool lets the garbage collector have them back
// when they go unused.
var largeBuffers [64]sync.Pool

// getLargeBuffer returns an empty buffer with room for n bytes (n ≥ groupBlockBytes).
func getLargeBuffer(n int) []byte {
	c := bits.Len(uint(n - 1)) // 1<<c ≥ n
	if b, ok := largeBuffers[c].Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 1<<c)
}

// putLargeBuffer recycles b, which nothing may use any more; small buffers are left to the
// garbage collector.
func putLargeBuffer(b []byte) {
	if cap(b) < groupBlockBytes {
		return
	}
	b = b[:0]
	largeBuffers[bits.Len(uint(cap(b)))-1].Put(&b) // 1<<class ≤ cap
}

// spillBlockBytes is how many bytes of a large group's values the GroupBuffer gathers
// before it appends them to the store as one entry of the group's bag: the store's cost is
// per entry, and the SDK reads the values back a page of entries at a time.
const spillBlockBytes = 64 << 10

// spill is the part of a group's values that goes to the store (see GroupBuffer.Large):
// the group's bag holds blocks of concatenated values, and pending is the block not yet
// written.
type spill struct {
	count   int // values in the store or pending
	pending []byte
}

// spillValue adds value to gr's values in the store.
func (gr *group) spillValue(store state.Store, value []byte) error {
	s := &gr.spilled
	s.pending = append(s.pending, value...)
	s.count++
	if len(s.pending) < spillBlockBytes {
		return nil
	}
	return gr.flushSpill(store)
}

// flushSpill writes the pending block to the store.
func (gr *group) flushSpill(store state.Store) error {
	s := &gr.spilled
	if len(s.pending) == 0 {
		return nil
	}
	if err := store.AppendBag(gr.bagKey(), s.pending); err != nil {
		return err
	}
	s.pending = s.pending[:0]
	return nil
}
