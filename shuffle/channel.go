package shuffle

import (
	"context"
	"sync"
)

// ChannelSender is the producer's end of one producer->consumer channel; it
// is the boundary between Writer and the transport. The in-process transport
// hands buffers straight to the receiving InputChannel; a network transport
// would ship them to a remote InputChannel and track the credit that channel
// announces.
//
// Ownership of buf passes to the sender only when a send succeeds.
type ChannelSender interface {
	// TrySend sends buf if the receiver has credit and reports whether it
	// did; it never blocks.
	TrySend(buf *Buffer) bool
	// Send sends buf, waiting for credit until ctx is done, in which case it
	// returns ctx.Err() and buf still belongs to the caller.
	Send(ctx context.Context, buf *Buffer) error
}

// InputChannel is the consumer's end of one producer->consumer channel. Its
// credits are its receive slots: a sender takes one per buffer, the InputGate
// gives it back once the buffer is fully read. So at most CreditsPerChannel
// buffers of one channel are ever queued, which is what bounds memory and
// produces backpressure.
type InputChannel struct {
	name string
	// credits is a semaphore: each token is one buffer the sender may send.
	credits chan struct{}

	mu sync.Mutex
	// gate is the InputGate reading this channel, nil until one is built;
	// index is this channel's position in it.
	gate  *InputGate
	index int
	// pending holds buffers delivered before a gate existed, so producers
	// may start before their consumer has built its gate.
	pending []*Buffer
}

func newInputChannel(name string, credits int) *InputChannel {
	c := &InputChannel{name: name, credits: make(chan struct{}, credits)}
	for range credits {
		c.credits <- struct{}{}
	}
	return c
}

// String names the channel as "producer->consumer" for logs and errors.
func (c *InputChannel) String() string { return c.name }

// Credits returns the number of buffers the channel grants its sender.
func (c *InputChannel) Credits() int { return cap(c.credits) }

// deliver queues a buffer the sender has paid a credit for.
func (c *InputChannel) deliver(buf *Buffer) {
	buf.channel = c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gate == nil {
		c.pending = append(c.pending, buf)
		return
	}
	// Enqueuing under the lock keeps this channel's buffers in order with
	// the pending ones moved by bind. The gate queue has room for every
	// credit of every channel, so this never waits.
	c.gate.enqueue(buf)
}

// bind attaches the channel to the gate reading it and hands over whatever
// arrived before the gate existed. It reports false if the channel already
// belongs to a gate.
func (c *InputChannel) bind(g *InputGate, index int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gate != nil {
		return false
	}
	c.gate, c.index = g, index
	for _, buf := range c.pending {
		g.enqueue(buf)
	}
	c.pending = nil
	return true
}

// returnCredit gives one receive slot back to the sender.
func (c *InputChannel) returnCredit() {
	select {
	case c.credits <- struct{}{}:
	default:
		// More returns than sends cannot happen with correct accounting;
		// dropping the surplus keeps the bound intact rather than blocking
		// the consumer.
	}
}

// localSender sends to an InputChannel in the same process.
type localSender struct{ ch *InputChannel }

func (s localSender) TrySend(buf *Buffer) bool {
	select {
	case <-s.ch.credits:
		s.ch.deliver(buf)
		return true
	default:
		return false
	}
}

func (s localSender) Send(ctx context.Context, buf *Buffer) error {
	select {
	case <-s.ch.credits:
		s.ch.deliver(buf)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
