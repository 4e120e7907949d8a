package shuffle

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// blockedWriter sets up one producer with a single credit that is already
// spent, so the next buffer it sends must wait for the consumer.
func blockedWriter(t *testing.T) (*Writer, *InputChannel, *InputGate) {
	t.Helper()
	ctx := context.Background()
	ex := mustExchange(t, ExchangeConfig{Producers: 1, Consumers: 1, CreditsPerChannel: 1, BufferSize: 64})
	w, ch := ex.Writer(0), ex.Channels(0)[0]
	g := NewInputGate(ch)
	if err := w.Write(ctx, nil, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(ch.credits); n != 0 {
		t.Fatalf("channel has %d credits after sending, want 0", n)
	}
	if err := w.Write(ctx, nil, []byte("second")); err != nil {
		t.Fatal(err)
	}
	return w, ch, g
}

func TestWriterWithoutCreditBlocksUntilConsumerReads(t *testing.T) {
	w, _, g := blockedWriter(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	flushed := make(chan error, 1)
	go func() { flushed <- w.Flush(ctx) }()

	// Not a proof of blocking (that is the zero-credit check above), only a
	// sanity check that Flush did not return early.
	select {
	case err := <-flushed:
		t.Fatalf("Flush returned (%v) while the channel had no credit", err)
	case <-time.After(20 * time.Millisecond):
	}

	ev, ok := g.Poll()
	if !ok || string(ev.Record) != "first" {
		t.Fatalf("Poll = %+v, %v; want record first", ev, ok)
	}
	// The credit comes back when the reader moves past the buffer's end,
	// which lets the writer send the second record.
	for {
		ev, ok := g.Poll()
		if ok {
			if string(ev.Record) != "second" {
				t.Fatalf("Poll = %+v, want record second", ev)
			}
			break
		}
		select {
		case <-g.Available():
		case <-ctx.Done():
			t.Fatal("second record never arrived after the consumer returned credit")
		}
	}
	if err := <-flushed; err != nil {
		t.Fatalf("Flush: %v", err)
	}
	st := w.Stats()
	if st.BackPressured <= 0 || st.BuffersSent != 2 || st.Records != 2 {
		t.Errorf("stats = %+v, want backpressure > 0, 2 buffers, 2 records", st)
	}
}

func TestBlockedWriterIsReleasedByCancel(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		wantErr error
	}{
		{"cancel", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Millisecond)
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, ch, _ := blockedWriter(t)
			ctx, cancel := tc.ctx()
			defer cancel()
			flushed := make(chan error, 1)
			go func() { flushed <- w.Flush(ctx) }()
			if tc.wantErr == context.Canceled {
				cancel()
			}
			select {
			case err := <-flushed:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Flush = %v, want %v", err, tc.wantErr)
				}
			case <-time.After(testTimeout):
				t.Fatal("Flush not released by its context")
			}
			if n := len(ch.credits); n != 0 {
				t.Errorf("channel has %d credits, want 0 (nothing read)", n)
			}
			// The unsent buffer stays with the writer: once the consumer
			// catches up, a retry delivers it.
		})
	}
}

// TestStalledConsumerDoesNotLeakProducers: a consumer that stops reading
// leaves its producers blocked on credit; cancelling their context ends them.
func TestStalledConsumerDoesNotLeakProducers(t *testing.T) {
	const producers = 3
	ex := mustExchange(t, ExchangeConfig{Producers: producers, Consumers: 1, Partitioning: RoundRobin, CreditsPerChannel: 1, BufferSize: 64})
	g := NewInputGate(ex.Channels(0)...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, producers)
	for p := range producers {
		w := ex.Writer(p)
		wg.Go(func() {
			for seq := 0; ; seq++ {
				if err := w.Write(ctx, nil, testRecord(p, seq, nil, 20)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Read a little, then stall.
	read := 0
	for read < 10 {
		if _, ok := g.Poll(); ok {
			read++
			continue
		}
		select {
		case <-g.Available():
		case <-time.After(testTimeout):
			t.Fatal("no data from producers")
		}
	}
	cancel()
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(testTimeout):
		t.Fatal("producers still running after cancel")
	}
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("producer ended with %v, want context.Canceled", err)
		}
	}
}
