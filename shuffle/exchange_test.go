package shuffle

import (
	"context"
	"errors"
	"math"
	"testing"
)

// partitioningCase is one edge shape; expect says which consumers must get
// producer p's record with the given key.
type partitioningCase struct {
	name   string
	cfg    ExchangeConfig
	expect func(cfg ExchangeConfig, p, seq int, key []byte) []int
}

var partitioningCases = []partitioningCase{
	{
		name: "forward 4x2",
		cfg:  ExchangeConfig{Producers: 4, Consumers: 2, Partitioning: Forward},
		expect: func(cfg ExchangeConfig, p, _ int, _ []byte) []int {
			return []int{p % cfg.Consumers}
		},
	},
	{
		name: "forward 2x3",
		cfg:  ExchangeConfig{Producers: 2, Consumers: 3, Partitioning: Forward},
		expect: func(cfg ExchangeConfig, p, _ int, _ []byte) []int {
			return []int{p % cfg.Consumers}
		},
	},
	{
		name: "hash 3x4",
		cfg:  ExchangeConfig{Producers: 3, Consumers: 4, Partitioning: Hash, MaxParallelism: 16},
		expect: func(cfg ExchangeConfig, _, _ int, key []byte) []int {
			return []int{SubtaskForKeyGroup(KeyGroup(key, cfg.MaxParallelism), cfg.Consumers, cfg.MaxParallelism)}
		},
	},
	{
		name: "broadcast 2x3",
		cfg:  ExchangeConfig{Producers: 2, Consumers: 3, Partitioning: Broadcast},
		expect: func(cfg ExchangeConfig, _, _ int, _ []byte) []int {
			return []int{0, 1, 2}
		},
	},
	{
		name: "roundrobin 2x3",
		cfg:  ExchangeConfig{Producers: 2, Consumers: 3, Partitioning: RoundRobin},
		expect: func(cfg ExchangeConfig, p, seq int, _ []byte) []int {
			// The rotation of producer p starts at consumer p % Q.
			return []int{(p + seq) % cfg.Consumers}
		},
	},
}

// TestPartitioningDeliversExactlyOnceInOrder runs every partitioning with
// concurrent producers and consumers, small buffers and little credit (so
// writers block and buffers cycle), records from empty to larger than a
// buffer, and in-band watermarks. It checks that each record reaches exactly
// the expected consumers once, in order per producer, and that every
// watermark a consumer sees is honoured by the records that follow it.
func TestPartitioningDeliversExactlyOnceInOrder(t *testing.T) {
	const recordsPerProducer = 1500
	for _, tc := range partitioningCases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.BufferSize = 128
			cfg.CreditsPerChannel = 2
			ex := mustExchange(t, cfg)
			out := runExchange(t, ex, func(ctx context.Context, p int, w *Writer) error {
				for seq := range recordsPerProducer {
					key := testKey(seq)
					if err := w.Write(ctx, key, testRecord(p, seq, key, seq%200)); err != nil {
						return err
					}
					// Watermark seq+1 promises every later record has a
					// higher seq.
					if seq%97 == 0 {
						if err := w.EmitWatermark(ctx, int64(seq+1)); err != nil {
							return err
						}
					}
				}
				return nil
			})

			want := make(map[[3]int]bool) // (consumer, producer, seq)
			for p := range cfg.Producers {
				for seq := range recordsPerProducer {
					for _, q := range tc.expect(ex.Config(), p, seq, testKey(seq)) {
						want[[3]int{q, p, seq}] = true
					}
				}
			}
			for q, events := range out {
				checkConsumerEvents(t, q, events, want)
			}
			if len(want) != 0 {
				t.Errorf("%d expected deliveries missing, e.g. one of %v", len(want), firstKey(want))
			}
			var records int64
			for p := range cfg.Producers {
				records += ex.Writer(p).Stats().Records
			}
			if records != int64(cfg.Producers*recordsPerProducer) {
				t.Errorf("writers counted %d records, want %d", records, cfg.Producers*recordsPerProducer)
			}
		})
	}
}

// checkConsumerEvents removes each delivery it sees from want and fails on
// unexpected, duplicate or out-of-order records and misordered events.
func checkConsumerEvents(t *testing.T, q int, events []received, want map[[3]int]bool) {
	t.Helper()
	lastSeq := map[int]int{}
	watermark := int64(math.MinInt64)
	for i, ev := range events {
		switch ev.kind {
		case EventRecord:
			d := decodeTestRecord(t, ev.record)
			id := [3]int{q, d.producer, d.seq}
			if !want[id] {
				t.Fatalf("consumer %d: unexpected or duplicate record producer %d seq %d", q, d.producer, d.seq)
			}
			delete(want, id)
			if last, ok := lastSeq[d.producer]; ok && d.seq <= last {
				t.Fatalf("consumer %d: producer %d seq %d after seq %d", q, d.producer, d.seq, last)
			}
			lastSeq[d.producer] = d.seq
			if int64(d.seq) < watermark {
				t.Fatalf("consumer %d: record seq %d after watermark %d", q, d.seq, watermark)
			}
		case EventWatermark:
			if ev.watermark <= watermark {
				t.Fatalf("consumer %d: watermark %d does not advance past %d", q, ev.watermark, watermark)
			}
			watermark = ev.watermark
		case EventEndOfData:
			if i != len(events)-1 {
				t.Fatalf("consumer %d: end-of-data at event %d of %d", q, i, len(events))
			}
		default:
			t.Fatalf("consumer %d: unknown event kind %v", q, ev.kind)
		}
	}
	if len(events) == 0 || events[len(events)-1].kind != EventEndOfData {
		t.Fatalf("consumer %d: stream does not end with end-of-data", q)
	}
}

func firstKey(m map[[3]int]bool) [3]int {
	for k := range m {
		return k
	}
	return [3]int{}
}

func TestForwardConnectsOnlyPointwise(t *testing.T) {
	ex := mustExchange(t, ExchangeConfig{Producers: 4, Consumers: 3, Partitioning: Forward})
	wantChannels := []int{2, 1, 1} // producers {0,3}, {1}, {2}
	for q, want := range wantChannels {
		if got := len(ex.Channels(q)); got != want {
			t.Errorf("consumer %d has %d channels, want %d", q, got, want)
		}
	}
	ex = mustExchange(t, ExchangeConfig{Producers: 1, Consumers: 2, Partitioning: Forward})
	g := NewInputGate(ex.Channels(1)...)
	if got := pollReady(g); len(got) != 1 || got[0].kind != EventEndOfData {
		t.Errorf("consumer without producers got %v, want only end-of-data", got)
	}
}

func TestLargeRecordsCrossBufferBoundaries(t *testing.T) {
	sizes := []int{10, 1000, 0, 5, 100_000, 63, 62, 64, 65, 3 << 20, 1}
	ex := mustExchange(t, ExchangeConfig{Producers: 1, Consumers: 1, Partitioning: Forward, BufferSize: 64, CreditsPerChannel: 2})
	out := runExchange(t, ex, func(ctx context.Context, _ int, w *Writer) error {
		for i, n := range sizes {
			rec := make([]byte, n)
			for j := range rec {
				rec[j] = byte(i + j)
			}
			if err := w.Write(ctx, nil, rec); err != nil {
				return err
			}
		}
		return nil
	})
	events := out[0]
	if len(events) != len(sizes)+1 {
		t.Fatalf("got %d events, want %d records and end-of-data", len(events), len(sizes))
	}
	for i, n := range sizes {
		rec := events[i].record
		if events[i].kind != EventRecord || len(rec) != n {
			t.Fatalf("event %d: kind %v, %d bytes; want a record of %d bytes", i, events[i].kind, len(rec), n)
		}
		for j, b := range rec {
			if b != byte(i+j) {
				t.Fatalf("record %d byte %d = %d, want %d", i, j, b, byte(i+j))
			}
		}
	}
	var total int64
	for _, n := range sizes {
		total += int64(n)
	}
	st := ex.Writer(0).Stats()
	if st.Records != int64(len(sizes)) || st.Bytes != total {
		t.Errorf("stats = %+v, want %d records and %d bytes", st, len(sizes), total)
	}
}

func TestNewExchangeRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  ExchangeConfig
	}{
		{"no producers", ExchangeConfig{Producers: 0, Consumers: 1}},
		{"no consumers", ExchangeConfig{Producers: 1, Consumers: 0}},
		{"unknown partitioning", ExchangeConfig{Producers: 1, Consumers: 1, Partitioning: 42}},
		{"more consumers than key groups", ExchangeConfig{Producers: 1, Consumers: 9, Partitioning: Hash, MaxParallelism: 8}},
		{"too many key groups", ExchangeConfig{Producers: 1, Consumers: 1, MaxParallelism: MaxMaxParallelism + 1}},
		{"tiny buffer", ExchangeConfig{Producers: 1, Consumers: 1, BufferSize: 8}},
		{"negative credit", ExchangeConfig{Producers: 1, Consumers: 1, CreditsPerChannel: -1}},
	}
	for _, tt := range tests {
		if _, err := NewExchange(tt.cfg); err == nil {
			t.Errorf("%s: NewExchange(%+v) succeeded, want an error", tt.name, tt.cfg)
		}
	}
	ex := mustExchange(t, ExchangeConfig{Producers: 2, Consumers: 2})
	got := ex.Config()
	if got.MaxParallelism != DefaultMaxParallelism || got.BufferSize != DefaultBufferSize || got.CreditsPerChannel != DefaultCreditsPerChannel {
		t.Errorf("defaults not applied: %+v", got)
	}
	if ex.Writer(2) != nil || ex.Writer(-1) != nil || ex.Channels(2) != nil {
		t.Error("out-of-range Writer/Channels should return nil")
	}
}

func TestWriterCloseIsIdempotentAndFinal(t *testing.T) {
	ctx := context.Background()
	ex := mustExchange(t, ExchangeConfig{Producers: 1, Consumers: 2, Partitioning: Broadcast})
	w := ex.Writer(0)
	gates := []*InputGate{NewInputGate(ex.Channels(0)...), NewInputGate(ex.Channels(1)...)}
	if err := w.Write(ctx, nil, []byte("x")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := w.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if err := w.Write(ctx, nil, []byte("y")); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Write after Close = %v, want ErrWriterClosed", err)
	}
	if err := w.EmitWatermark(ctx, 1); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("EmitWatermark after Close = %v, want ErrWriterClosed", err)
	}
	for q, g := range gates {
		got := pollReady(g)
		if len(got) != 2 || string(got[0].record) != "x" || got[1].kind != EventEndOfData {
			t.Errorf("consumer %d got %+v, want record x then end-of-data", q, got)
		}
		if !g.Done() {
			t.Errorf("consumer %d: gate not done after end-of-data", q)
		}
	}
	if st := w.Stats(); st.BuffersSent != 2 {
		t.Errorf("BuffersSent = %d, want 2 (records and end-of-data share a buffer per channel)", st.BuffersSent)
	}
}
