package shuffle

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ErrWriterClosed is returned by Writer methods that produce data after
// Close has been called.
var ErrWriterClosed = errors.New("shuffle: writer is closed")

// WriterStats are a producer's output counters, the raw material for
// numRecordsOut, numBytesOut and backPressuredTimeMsPerSecond.
type WriterStats struct {
	Records     int64 // records written (a broadcast record counts once)
	Bytes       int64 // record payload bytes written, without framing
	BuffersSent int64 // buffers handed to the transport, events included
	// BackPressured is the total time spent waiting for credit.
	BackPressured time.Duration
}

// Writer is one producer subtask's output on one edge. It serializes records
// straight into one open pooled buffer per target channel and sends a buffer
// when it is full, on Flush, before an event, or on Close.
//
// A Writer is used by one goroutine; only Stats may be called from others.
// After a method returns an error (its context ended) the writer should be
// abandoned: a record may or may not have been buffered.
type Writer struct {
	producer       int
	consumers      int
	partitioning   Partitioning
	maxParallelism int
	pool           *bufferPool
	bufferSize     int

	senders []ChannelSender // by consumer; nil where this producer has no channel
	targets []int           // consumers this producer has channels to
	open    []*Buffer       // by consumer; the buffer being filled, or nil

	forwardTarget  int
	nextRoundRobin int
	ended          []bool // by consumer: end-of-data has been sent
	closed         bool

	// Counters owned by the writer goroutine; copied into published on every
	// send so that Stats is safe from other goroutines without paying for an
	// atomic operation per record.
	records, bytes int64
	published      struct {
		records, bytes, buffers, blockedNanos atomic.Int64
	}
}

// NewWriter builds a Writer for producer over the given senders, one per
// consumer (nil where the partitioning connects no channel, i.e. for Forward
// every consumer but producer % Consumers). Exchange calls it with in-process
// senders; a network transport calls it with its own.
func NewWriter(cfg ExchangeConfig, producer int, senders []ChannelSender) (*Writer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return newWriter(cfg, producer, senders, newBufferPool(cfg.BufferSize))
}

// newWriter expects cfg with defaults applied and validated.
func newWriter(cfg ExchangeConfig, producer int, senders []ChannelSender, pool *bufferPool) (*Writer, error) {
	if producer < 0 || producer >= cfg.Producers {
		return nil, fmt.Errorf("shuffle: producer %d out of range [0, %d)", producer, cfg.Producers)
	}
	if len(senders) != cfg.Consumers {
		return nil, fmt.Errorf("shuffle: producer %d: got %d senders for %d consumers", producer, len(senders), cfg.Consumers)
	}
	w := &Writer{
		producer:       producer,
		consumers:      cfg.Consumers,
		partitioning:   cfg.Partitioning,
		maxParallelism: cfg.MaxParallelism,
		pool:           pool,
		bufferSize:     cfg.BufferSize,
		senders:        senders,
		open:           make([]*Buffer, cfg.Consumers),
		ended:          make([]bool, cfg.Consumers),
		forwardTarget:  producer % cfg.Consumers,
		// Starting the rotation at a producer-specific consumer spreads
		// the first records of many producers over different consumers.
		nextRoundRobin: producer % cfg.Consumers,
	}
	for q, s := range senders {
		if !cfg.connected(producer, q) {
			continue
		}
		if s == nil {
			return nil, fmt.Errorf("shuffle: producer %d: no sender for consumer %d", producer, q)
		}
		w.targets = append(w.targets, q)
	}
	return w, nil
}

// Write sends record to the consumers chosen by the partitioning; key is used
// by Hash only. record is copied before Write returns. Records larger than a
// buffer travel alone in an oversized buffer. Write blocks only when a full
// buffer must be sent and the target has no credit.
func (w *Writer) Write(ctx context.Context, key, record []byte) error {
	if w.closed {
		return fmt.Errorf("shuffle: producer %d: Write: %w", w.producer, ErrWriterClosed)
	}
	w.records++
	w.bytes += int64(len(record))
	switch w.partitioning {
	case Forward:
		return w.writeTo(ctx, w.forwardTarget, record)
	case Hash:
		kg := KeyGroup(key, w.maxParallelism)
		return w.writeTo(ctx, SubtaskForKeyGroup(kg, w.consumers, w.maxParallelism), record)
	case RoundRobin:
		t := w.nextRoundRobin
		w.nextRoundRobin++
		if w.nextRoundRobin == w.consumers {
			w.nextRoundRobin = 0
		}
		return w.writeTo(ctx, t, record)
	case Broadcast:
		for _, t := range w.targets {
			if err := w.writeTo(ctx, t, record); err != nil {
				return err
			}
		}
		return nil
	default:
		return fmt.Errorf("shuffle: producer %d: unknown partitioning %v", w.producer, w.partitioning)
	}
}

// writeTo appends record to consumer t's open buffer, sending the buffer
// first if the record does not fit and afterwards if it is then full.
func (w *Writer) writeTo(ctx context.Context, t int, record []byte) error {
	need := encodedLen(record)
	buf := w.open[t]
	if buf != nil && buf.free() < need {
		if err := w.send(ctx, t, buf); err != nil {
			return err
		}
		buf = nil
	}
	if buf == nil {
		if need > w.bufferSize {
			// Oversized: a one-off buffer, never pooled, so the pool's
			// buffers stay fixed-size.
			buf = &Buffer{data: make([]byte, 0, need)}
		} else {
			buf = w.pool.get()
		}
		w.open[t] = buf
	}
	buf.appendRecord(record)
	if buf.free() == 0 {
		// Nothing more fits; sending now keeps latency down and keeps
		// oversized buffers from lingering.
		return w.send(ctx, t, buf)
	}
	return nil
}

// send hands buf to consumer t's channel, waiting for credit if needed, and
// accounts the wait as backpressure.
func (w *Writer) send(ctx context.Context, t int, buf *Buffer) error {
	s := w.senders[t]
	if !s.TrySend(buf) {
		start := time.Now()
		err := s.Send(ctx, buf)
		w.published.blockedNanos.Add(int64(time.Since(start)))
		if err != nil {
			return fmt.Errorf("shuffle: producer %d sending to consumer %d: %w", w.producer, t, err)
		}
	}
	w.open[t] = nil
	w.published.buffers.Add(1)
	w.publish()
	return nil
}

func (w *Writer) publish() {
	w.published.records.Store(w.records)
	w.published.bytes.Store(w.bytes)
}

// Flush sends every non-empty open buffer. The runtime calls it when it wants
// latency bounded (e.g. on an idle mailbox or a flush timer).
func (w *Writer) Flush(ctx context.Context) error {
	for _, t := range w.targets {
		if buf := w.open[t]; buf != nil && len(buf.data) > 0 {
			if err := w.send(ctx, t, buf); err != nil {
				return err
			}
		}
	}
	w.publish()
	return nil
}

// EmitWatermark flushes and then sends watermark ts on every channel of this
// producer, in order after the records written before it.
func (w *Writer) EmitWatermark(ctx context.Context, ts int64) error {
	if w.closed {
		return fmt.Errorf("shuffle: producer %d: EmitWatermark: %w", w.producer, ErrWriterClosed)
	}
	for _, t := range w.targets {
		if err := w.sendEvent(ctx, t, trailerWatermark, ts); err != nil {
			return err
		}
	}
	return nil
}

// EmitProcessingTime flushes and then sends processing time ts of a virtual clock on
// every channel of this producer, in order after the records written before it.
func (w *Writer) EmitProcessingTime(ctx context.Context, ts int64) error {
	if w.closed {
		return fmt.Errorf("shuffle: producer %d: EmitProcessingTime: %w", w.producer, ErrWriterClosed)
	}
	for _, t := range w.targets {
		if err := w.sendEvent(ctx, t, trailerProcessingTime, ts); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes and sends end-of-data on every channel of this producer. It
// is idempotent, and after a failure (context ended) it may be called again
// to finish the channels that did not get end-of-data yet.
func (w *Writer) Close(ctx context.Context) error {
	w.closed = true
	for _, t := range w.targets {
		if w.ended[t] {
			continue
		}
		if err := w.sendEvent(ctx, t, trailerEndOfData, 0); err != nil {
			return err
		}
		w.ended[t] = true
	}
	return nil
}

// sendEvent sends an in-band event as the trailer of consumer t's open
// buffer, which flushes its records and the event with one credit.
func (w *Writer) sendEvent(ctx context.Context, t int, kind trailerKind, ts int64) error {
	buf := w.open[t]
	if buf == nil {
		// Event-only buffers carry no records, so they need no pooled memory.
		buf = &Buffer{}
	}
	buf.trailer, buf.watermark = kind, ts
	if err := w.send(ctx, t, buf); err != nil {
		// The buffer stays open for more records; the event goes with a
		// later attempt, after them.
		buf.trailer, buf.watermark = trailerNone, 0
		return err
	}
	return nil
}

// Stats returns the writer's counters. It is safe to call from any
// goroutine; records still sitting in an open buffer are counted once the
// buffer is sent or flushed.
func (w *Writer) Stats() WriterStats {
	return WriterStats{
		Records:       w.published.records.Load(),
		Bytes:         w.published.bytes.Load(),
		BuffersSent:   w.published.buffers.Load(),
		BackPressured: time.Duration(w.published.blockedNanos.Load()),
	}
}
