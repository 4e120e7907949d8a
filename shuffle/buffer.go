package shuffle

import (
	"encoding/binary"
	"sync"
)

// trailerKind says which in-band event, if any, follows a buffer's records.
type trailerKind uint8

const (
	trailerNone trailerKind = iota
	trailerWatermark
	trailerEndOfData
	trailerProcessingTime
)

// Buffer is the unit of transfer on a channel: zero or more records, each
// encoded as uvarint(length) followed by the bytes, optionally followed by
// one in-band event (a watermark, a processing time or end-of-data). Carrying the event as a
// trailer keeps it ordered after the records it follows without spending a
// second credit.
//
// A Buffer is owned by exactly one party at a time: the Writer while it fills
// it, the transport while it is in flight, the InputGate while it is read.
type Buffer struct {
	data      []byte
	trailer   trailerKind
	watermark int64
	// pool is where the buffer goes back after it has been read; nil for
	// oversized buffers and event-only buffers, which are left to the GC.
	pool *bufferPool
	// channel is the receiving channel, set on delivery, so the gate knows
	// whose credit to return and whose watermark an event moves.
	channel *InputChannel
}

// Data returns the encoded records (uvarint length prefix + bytes, repeated).
// A network transport ships these bytes as they are.
func (b *Buffer) Data() []byte { return b.data }

// Event returns the in-band event that follows the records, if any: kind is
// EventWatermark or EventProcessingTime (with its timestamp) or EventEndOfData.
func (b *Buffer) Event() (kind EventKind, watermark int64, ok bool) {
	switch b.trailer {
	case trailerWatermark:
		return EventWatermark, b.watermark, true
	case trailerEndOfData:
		return EventEndOfData, 0, true
	case trailerProcessingTime:
		return EventProcessingTime, b.watermark, true
	default:
		return 0, 0, false
	}
}

// Recycle returns the buffer's memory to its pool. A transport that has
// copied a buffer elsewhere (e.g. onto the wire) calls it; the buffer must not
// be used afterwards.
func (b *Buffer) Recycle() {
	if b.pool != nil {
		b.pool.put(b)
	}
}

// free is the number of bytes that can still be appended without growing the
// buffer, which would defeat pooling.
func (b *Buffer) free() int { return cap(b.data) - len(b.data) }

// appendRecord writes record length-prefixed. The caller has checked that it
// fits, so append never reallocates.
func (b *Buffer) appendRecord(record []byte) {
	b.data = binary.AppendUvarint(b.data, uint64(len(record)))
	b.data = append(b.data, record...)
}

// encodedLen is the number of bytes record takes inside a buffer.
func encodedLen(record []byte) int {
	n := len(record)
	prefix := 1
	for v := uint64(n); v >= 0x80; v >>= 7 {
		prefix++
	}
	return prefix + n
}

// bufferPool hands out buffers of one fixed size. sync.Pool is enough: credit
// already bounds how many buffers are live, the pool only saves allocations.
type bufferPool struct {
	size int
	pool sync.Pool
}

func newBufferPool(size int) *bufferPool {
	p := &bufferPool{size: size}
	p.pool.New = func() any {
		return &Buffer{data: make([]byte, 0, size), pool: p}
	}
	return p
}

func (p *bufferPool) get() *Buffer { return p.pool.Get().(*Buffer) }

func (p *bufferPool) put(b *Buffer) {
	if cap(b.data) != p.size {
		return // not one of ours; let the GC have it
	}
	b.data = b.data[:0]
	b.trailer = trailerNone
	b.watermark = 0
	b.channel = nil
	p.pool.Put(b)
}
