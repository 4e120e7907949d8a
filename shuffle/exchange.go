package shuffle

import (
	"errors"
	"fmt"
)

// DefaultBufferSize is the size in bytes of a pooled network buffer.
const DefaultBufferSize = 32 << 10

// DefaultCreditsPerChannel is how many buffers a receiving channel lets its
// sender have in flight. More credit absorbs jitter; less bounds memory
// (credits * BufferSize per channel).
const DefaultCreditsPerChannel = 4

// minBufferSize keeps a buffer big enough for a length prefix and a small
// record; smaller buffers would turn almost every record into an oversized one.
const minBufferSize = 64

// Partitioning says which consumers of an edge receive a record.
type Partitioning int

const (
	// Forward sends producer i's records to consumer i % Q only.
	Forward Partitioning = iota
	// Hash sends a record to the subtask owning the key group of its key.
	Hash
	// Broadcast sends every record to every consumer.
	Broadcast
	// RoundRobin rotates over the consumers, record by record.
	RoundRobin
)

func (p Partitioning) String() string {
	switch p {
	case Forward:
		return "forward"
	case Hash:
		return "hash"
	case Broadcast:
		return "broadcast"
	case RoundRobin:
		return "roundrobin"
	default:
		return fmt.Sprintf("Partitioning(%d)", int(p))
	}
}

// ExchangeConfig describes one edge between two stages.
type ExchangeConfig struct {
	// Producers and Consumers are the parallelisms of the upstream and
	// downstream stage.
	Producers, Consumers int
	Partitioning         Partitioning
	// MaxParallelism is the number of key groups for Hash; 0 means
	// DefaultMaxParallelism.
	MaxParallelism int
	// BufferSize is the size in bytes of a pooled buffer; 0 means
	// DefaultBufferSize.
	BufferSize int
	// CreditsPerChannel is how many buffers a receiving channel grants its
	// sender; 0 means DefaultCreditsPerChannel.
	CreditsPerChannel int
}

// withDefaults fills zero fields and rejects configurations the exchange
// could not honour, naming the field to fix.
func (c ExchangeConfig) withDefaults() (ExchangeConfig, error) {
	if c.MaxParallelism == 0 {
		c.MaxParallelism = DefaultMaxParallelism
	}
	if c.BufferSize == 0 {
		c.BufferSize = DefaultBufferSize
	}
	if c.CreditsPerChannel == 0 {
		c.CreditsPerChannel = DefaultCreditsPerChannel
	}
	var errs []error
	if c.Producers < 1 {
		errs = append(errs, fmt.Errorf("Producers is %d, need at least 1", c.Producers))
	}
	if c.Consumers < 1 {
		errs = append(errs, fmt.Errorf("Consumers is %d, need at least 1", c.Consumers))
	}
	if c.Partitioning < Forward || c.Partitioning > RoundRobin {
		errs = append(errs, fmt.Errorf("unknown partitioning %v", c.Partitioning))
	}
	if c.MaxParallelism < 1 || c.MaxParallelism > MaxMaxParallelism {
		errs = append(errs, fmt.Errorf("MaxParallelism is %d, need 1..%d", c.MaxParallelism, MaxMaxParallelism))
	}
	if c.Partitioning == Hash && c.Consumers > c.MaxParallelism {
		errs = append(errs, fmt.Errorf("Consumers (%d) exceeds MaxParallelism (%d): some subtasks would own no key group; raise MaxParallelism", c.Consumers, c.MaxParallelism))
	}
	if c.BufferSize < minBufferSize {
		errs = append(errs, fmt.Errorf("BufferSize is %d, need at least %d", c.BufferSize, minBufferSize))
	}
	if c.CreditsPerChannel < 1 {
		errs = append(errs, fmt.Errorf("CreditsPerChannel is %d, need at least 1", c.CreditsPerChannel))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("shuffle: invalid exchange config: %w", err)
	}
	return c, nil
}

// connected reports whether producer p has a channel to consumer q. Only
// Forward is pointwise; every other partitioning may reach every consumer.
func (c ExchangeConfig) connected(p, q int) bool {
	if c.Partitioning == Forward {
		return p%c.Consumers == q
	}
	return true
}

// Exchange is one in-process edge: it owns the buffer pool, the writers of
// all producers and the input channels of all consumers. It has no goroutines
// and needs no shutdown; writers and gates are stopped through their contexts.
type Exchange struct {
	cfg      ExchangeConfig
	writers  []*Writer
	channels [][]*InputChannel // [consumer] -> channels from its connected producers
}

// NewExchange builds the channels and writers of one edge.
func NewExchange(cfg ExchangeConfig) (*Exchange, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	pool := newBufferPool(cfg.BufferSize)
	e := &Exchange{
		cfg:      cfg,
		writers:  make([]*Writer, cfg.Producers),
		channels: make([][]*InputChannel, cfg.Consumers),
	}
	senders := make([][]ChannelSender, cfg.Producers)
	for p := range senders {
		senders[p] = make([]ChannelSender, cfg.Consumers)
	}
	for q := 0; q < cfg.Consumers; q++ {
		for p := 0; p < cfg.Producers; p++ {
			if !cfg.connected(p, q) {
				continue
			}
			ch := newInputChannel(fmt.Sprintf("%d->%d", p, q), cfg.CreditsPerChannel)
			e.channels[q] = append(e.channels[q], ch)
			senders[p][q] = localSender{ch: ch}
		}
	}
	for p := range e.writers {
		w, err := newWriter(cfg, p, senders[p], pool)
		if err != nil {
			return nil, err
		}
		e.writers[p] = w
	}
	return e, nil
}

// Config returns the exchange's configuration with defaults applied.
func (e *Exchange) Config() ExchangeConfig { return e.cfg }

// Writer returns producer's writer, or nil if producer is out of range. The
// same Writer is returned on every call; it must be used by one goroutine.
func (e *Exchange) Writer(producer int) *Writer {
	if producer < 0 || producer >= len(e.writers) {
		return nil
	}
	return e.writers[producer]
}

// Channels returns consumer's input channels, one per producer connected to
// it (every producer, except for Forward), to be merged in an InputGate. It
// returns nil if consumer is out of range.
func (e *Exchange) Channels(consumer int) []*InputChannel {
	if consumer < 0 || consumer >= len(e.channels) {
		return nil
	}
	return append([]*InputChannel(nil), e.channels[consumer]...)
}
