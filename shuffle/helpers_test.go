package shuffle

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every test that runs goroutines, so a deadlock fails
// the test instead of hanging the suite.
const testTimeout = 20 * time.Second

// received is what a consumer saw, with records copied out of the gate.
type received struct {
	kind      EventKind
	record    []byte
	watermark int64
}

// pollReady returns every event the gate has ready right now, copying records.
func pollReady(g *InputGate) []received {
	var out []received
	for {
		ev, ok := g.Poll()
		if !ok {
			return out
		}
		out = append(out, toReceived(ev))
	}
}

func toReceived(ev Event) received {
	return received{kind: ev.Kind, record: append([]byte(nil), ev.Record...), watermark: ev.Watermark}
}

// drainGate reads g the way a task loop does until end-of-data or ctx ends.
func drainGate(ctx context.Context, g *InputGate) ([]received, error) {
	var out []received
	for {
		ev, ok := g.Poll()
		if !ok {
			select {
			case <-g.Available():
				continue
			case <-ctx.Done():
				return out, ctx.Err()
			}
		}
		out = append(out, toReceived(ev))
		if ev.Kind == EventEndOfData {
			return out, nil
		}
	}
}

// testRecord encodes (producer, seq, key) so a consumer can check where a
// record came from, its order, and where it should have gone. Padding makes
// sizes vary, including records bigger than small test buffers.
func testRecord(producer, seq int, key []byte, padding int) []byte {
	rec := make([]byte, 0, 10+len(key)+padding)
	rec = binary.BigEndian.AppendUint16(rec, uint16(producer))
	rec = binary.BigEndian.AppendUint32(rec, uint32(seq))
	rec = binary.BigEndian.AppendUint16(rec, uint16(len(key)))
	rec = append(rec, key...)
	for i := range padding {
		rec = append(rec, byte(seq+i))
	}
	return rec
}

type decodedRecord struct {
	producer, seq int
	key           []byte
}

func decodeTestRecord(t *testing.T, rec []byte) decodedRecord {
	t.Helper()
	if len(rec) < 8 {
		t.Fatalf("record too short: %d bytes", len(rec))
	}
	keyLen := int(binary.BigEndian.Uint16(rec[6:]))
	if len(rec) < 8+keyLen {
		t.Fatalf("record shorter than its key: %d bytes, key %d", len(rec), keyLen)
	}
	d := decodedRecord{
		producer: int(binary.BigEndian.Uint16(rec)),
		seq:      int(binary.BigEndian.Uint32(rec[2:])),
		key:      rec[8 : 8+keyLen],
	}
	for i, b := range rec[8+keyLen:] {
		if b != byte(d.seq+i) {
			t.Fatalf("producer %d seq %d: padding byte %d corrupted", d.producer, d.seq, i)
		}
	}
	return d
}

func testKey(seq int) []byte { return fmt.Appendf(nil, "key-%d", seq%37) }

// runExchange drives every writer and gate of ex in its own goroutine, as the
// runtime would: produce writes producer p's output, then the writer is
// closed; each consumer drains its gate. It returns what each consumer saw.
func runExchange(t *testing.T, ex *Exchange, produce func(ctx context.Context, p int, w *Writer) error) [][]received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cfg := ex.Config()

	var wg sync.WaitGroup
	errs := make(chan error, cfg.Producers+cfg.Consumers)
	out := make([][]received, cfg.Consumers)
	for q := range cfg.Consumers {
		g := NewInputGate(ex.Channels(q)...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			evs, err := drainGate(ctx, g)
			out[q] = evs
			if err != nil {
				errs <- fmt.Errorf("consumer %d: %w", q, err)
				cancel()
			}
		}()
	}
	for p := range cfg.Producers {
		w := ex.Writer(p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := produce(ctx, p, w)
			if err == nil {
				err = w.Close(ctx)
			}
			if err != nil {
				errs <- fmt.Errorf("producer %d: %w", p, err)
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustExchange(t testing.TB, cfg ExchangeConfig) *Exchange {
	t.Helper()
	ex, err := NewExchange(cfg)
	if err != nil {
		t.Fatalf("NewExchange(%+v): %v", cfg, err)
	}
	return ex
}
