package shuffle

import (
	"encoding/binary"
	"fmt"
	"math"
)

// EventKind says what an Event carries.
type EventKind uint8

const (
	// EventRecord carries one record.
	EventRecord EventKind = iota + 1
	// EventWatermark carries a new, higher gate watermark.
	EventWatermark
	// EventEndOfData says every channel has ended; treat it as watermark +inf.
	EventEndOfData
	// EventProcessingTime carries a new, higher processing time of a virtual clock
	// (TestStream's); jobs on the wall clock never send it.
	EventProcessingTime
)

func (k EventKind) String() string {
	switch k {
	case EventRecord:
		return "record"
	case EventWatermark:
		return "watermark"
	case EventEndOfData:
		return "end-of-data"
	case EventProcessingTime:
		return "processing-time"
	default:
		return fmt.Sprintf("EventKind(%d)", uint8(k))
	}
}

// Event is one thing read from an InputGate.
type Event struct {
	Kind EventKind
	// Record is valid until the next Poll: its buffer is recycled and its
	// credit returned once the gate moves past it. Copy it to keep it.
	Record []byte
	// Watermark is the gate's new input watermark for EventWatermark, or its new
	// processing time for EventProcessingTime.
	Watermark int64
}

// InputGate merges the input channels of one consumer subtask, possibly from
// several exchanges (a stage with several upstream edges, e.g. Flatten). It
// is read by the task's goroutine only; senders reach it through its queue.
type InputGate struct {
	channels []*InputChannel
	// queue holds delivered buffers of all channels in arrival order. Its
	// capacity is the sum of the channels' credits, so a sender holding a
	// credit never waits on it.
	queue chan *Buffer
	// available holds a token when the queue may have gained a buffer since
	// the last Poll that found it empty.
	available chan struct{}

	// Fields below are owned by the reading goroutine.
	watermarks []int64 // by channel index: highest watermark received
	ended      []bool  // by channel index
	numEnded   int
	emitted    int64 // last watermark returned by Poll
	// procTimes are the processing times received by channel (math.MinInt64: none yet);
	// procEmitted is the last one Poll returned.
	procTimes   []int64
	procEmitted int64
	// procDirty says a channel that carried a processing time has ended since, so the
	// minimum may have moved: the next Poll looks (one Poll returns one event).
	procDirty bool
	cur       *Buffer
	off       int // read position in cur.data
	done      bool
	err       error
}

// NewInputGate builds a gate reading channels. Each channel can be read by
// one gate only; passing a nil channel or one already in a gate is a wiring
// bug in the caller and panics.
func NewInputGate(channels ...*InputChannel) *InputGate {
	total := 0
	for _, c := range channels {
		if c != nil {
			total += c.Credits()
		}
	}
	g := &InputGate{
		channels:    channels,
		queue:       make(chan *Buffer, total),
		available:   make(chan struct{}, 1),
		watermarks:  make([]int64, len(channels)),
		procTimes:   make([]int64, len(channels)),
		ended:       make([]bool, len(channels)),
		emitted:     math.MinInt64,
		procEmitted: math.MinInt64,
	}
	// An initial token lets a caller that waits before its first Poll wake
	// up and look.
	g.available <- struct{}{}
	for i := range g.watermarks {
		g.watermarks[i], g.procTimes[i] = math.MinInt64, math.MinInt64
	}
	for i, c := range channels {
		if c == nil {
			panic(fmt.Sprintf("shuffle: NewInputGate: channel %d is nil", i))
		}
		if !c.bind(g, i) {
			panic(fmt.Sprintf("shuffle: NewInputGate: channel %v is already read by another gate", c))
		}
	}
	return g
}

// enqueue is called by senders (any goroutine) with a buffer they hold a
// credit for.
func (g *InputGate) enqueue(buf *Buffer) {
	g.queue <- buf
	select {
	case g.available <- struct{}{}:
	default: // a token is already pending
	}
}

// Poll returns the next event, or false if none is ready now. It never
// blocks. Watermark events report the minimum watermark over the channels
// that have not ended, and only when that minimum advances. EventEndOfData
// is returned exactly once, after every channel has ended.
func (g *InputGate) Poll() (Event, bool) {
	for {
		if g.procDirty {
			g.procDirty = false
			if ev, ok := g.advanceProcessingTime(); ok {
				return ev, true
			}
		}
		if b := g.cur; b != nil {
			if g.off < len(b.data) {
				if rec, ok := g.nextRecord(b); ok {
					return Event{Kind: EventRecord, Record: rec}, true
				}
				continue
			}
			g.cur = nil
			if ev, ok := g.finishBuffer(b); ok {
				return ev, true
			}
			continue
		}
		if g.numEnded == len(g.channels) {
			// Reached directly only by a gate without channels; otherwise
			// finishBuffer has already returned end-of-data.
			if !g.done {
				g.done = true
				return Event{Kind: EventEndOfData}, true
			}
			return Event{}, false
		}
		select {
		case b := <-g.queue:
			g.cur, g.off = b, 0
		default:
			return Event{}, false
		}
	}
}

// nextRecord decodes the record at g.off. A malformed buffer (possible only
// from a faulty transport) is dropped and remembered in Err.
func (g *InputGate) nextRecord(b *Buffer) ([]byte, bool) {
	n, k := binary.Uvarint(b.data[g.off:])
	if k <= 0 || n > uint64(len(b.data)-g.off-k) {
		if g.err == nil {
			g.err = fmt.Errorf("shuffle: malformed buffer on channel %v at offset %d", b.channel, g.off)
		}
		g.off = len(b.data)
		return nil, false
	}
	start := g.off + k
	end := start + int(n)
	g.off = end
	// The capacity limit keeps a caller's append from overwriting the next
	// record.
	return b.data[start:end:end], true
}

// finishBuffer recycles a fully read buffer, returns its credit, and applies
// its trailing event, reporting the event the caller should see, if any.
func (g *InputGate) finishBuffer(b *Buffer) (Event, bool) {
	ch := b.channel
	idx := ch.index
	kind, ts, hasEvent := b.Event()
	b.Recycle()
	ch.returnCredit()
	if !hasEvent {
		return Event{}, false
	}
	switch kind {
	case EventWatermark:
		if ts > g.watermarks[idx] {
			g.watermarks[idx] = ts
		}
	case EventProcessingTime:
		if ts > g.procTimes[idx] {
			g.procTimes[idx] = ts
		}
		return g.advanceProcessingTime()
	case EventEndOfData:
		if !g.ended[idx] {
			g.ended[idx] = true
			g.numEnded++
			g.procDirty = g.procTimes[idx] != math.MinInt64
		}
		if g.numEnded == len(g.channels) {
			g.done = true
			return Event{Kind: EventEndOfData}, true
		}
	}
	return g.advanceWatermark()
}

// advanceWatermark recomputes the minimum over live channels; an ended
// channel no longer holds the gate back.
func (g *InputGate) advanceWatermark() (Event, bool) {
	lowest := int64(math.MaxInt64)
	for i, wm := range g.watermarks {
		if !g.ended[i] && wm < lowest {
			lowest = wm
		}
	}
	if lowest <= g.emitted {
		return Event{}, false
	}
	g.emitted = lowest
	return Event{Kind: EventWatermark, Watermark: lowest}, true
}

// advanceProcessingTime recomputes the minimum processing time over the live channels
// that have sent one: a virtual clock reaches a task only along the edges from its source.
func (g *InputGate) advanceProcessingTime() (Event, bool) {
	lowest, any := int64(math.MaxInt64), false
	for i, pt := range g.procTimes {
		if !g.ended[i] && pt != math.MinInt64 {
			lowest, any = min(lowest, pt), true
		}
	}
	if !any || lowest <= g.procEmitted {
		return Event{}, false
	}
	g.procEmitted = lowest
	return Event{Kind: EventProcessingTime, Watermark: lowest}, true
}

// Available returns a channel that is ready when Poll may have something to
// return. Wake-ups can be spurious; the caller polls again and waits again.
func (g *InputGate) Available() <-chan struct{} { return g.available }

// Done reports whether EventEndOfData has been returned.
func (g *InputGate) Done() bool { return g.done }

// Watermark is the last watermark Poll returned (math.MinInt64 before the
// first), for the currentInputWatermark metric.
func (g *InputGate) Watermark() int64 { return g.emitted }

// Err reports a malformed buffer seen by the gate, if any. In-process
// exchanges never produce one; a network transport may.
func (g *InputGate) Err() error { return g.err }
