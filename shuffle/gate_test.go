package shuffle

import (
	"context"
	"math"
	"strings"
	"testing"
)

func wm(ts int64) received  { return received{kind: EventWatermark, watermark: ts} }
func rec(s string) received { return received{kind: EventRecord, record: []byte(s)} }

var endOfData = received{kind: EventEndOfData}

func sameEvents(a, b []received) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].kind != b[i].kind || a[i].watermark != b[i].watermark || string(a[i].record) != string(b[i].record) {
			return false
		}
	}
	return true
}

// step is one action on writers followed by the events the gate must then
// have ready, and nothing else.
type step struct {
	name string
	do   func(ctx context.Context) error
	want []received
}

func runSteps(t *testing.T, g *InputGate, steps []step) {
	t.Helper()
	ctx := context.Background()
	for _, s := range steps {
		if err := s.do(ctx); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := pollReady(g); !sameEvents(got, s.want) {
			t.Fatalf("%s: gate returned %+v, want %+v", s.name, got, s.want)
		}
	}
}

func TestGateWatermarkIsMinimumOverLiveChannels(t *testing.T) {
	ex := mustExchange(t, ExchangeConfig{Producers: 2, Consumers: 1, Partitioning: RoundRobin})
	w0, w1 := ex.Writer(0), ex.Writer(1)
	g := NewInputGate(ex.Channels(0)...)
	runSteps(t, g, []step{
		{"w0 at 10, w1 unknown", func(ctx context.Context) error { return w0.EmitWatermark(ctx, 10) }, nil},
		{"w1 at 5", func(ctx context.Context) error { return w1.EmitWatermark(ctx, 5) }, []received{wm(5)}},
		{"w1 at 20", func(ctx context.Context) error { return w1.EmitWatermark(ctx, 20) }, []received{wm(10)}},
		{"w1 goes back to 15", func(ctx context.Context) error { return w1.EmitWatermark(ctx, 15) }, nil},
		{"record then w0 at 30", func(ctx context.Context) error {
			if err := w0.Write(ctx, nil, []byte("a")); err != nil {
				return err
			}
			return w0.EmitWatermark(ctx, 30)
		}, []received{rec("a"), wm(20)}},
		{"w1 ends", func(ctx context.Context) error { return w1.Close(ctx) }, []received{wm(30)}},
		{"w0 at 40", func(ctx context.Context) error { return w0.EmitWatermark(ctx, 40) }, []received{wm(40)}},
		{"w0 ends", func(ctx context.Context) error { return w0.Close(ctx) }, []received{endOfData}},
	})
	if !g.Done() || g.Watermark() != 40 {
		t.Errorf("after end: Done=%v Watermark=%d, want true and 40", g.Done(), g.Watermark())
	}
	if ev, ok := g.Poll(); ok {
		t.Errorf("Poll after end-of-data returned %+v", ev)
	}
}

func pt(ts int64) received { return received{kind: EventProcessingTime, watermark: ts} }

// A virtual processing time is the minimum over the live channels that carry one, and
// independent of the watermark.
func TestGateProcessingTimeIsMinimumOverChannelsThatSendOne(t *testing.T) {
	ex := mustExchange(t, ExchangeConfig{Producers: 3, Consumers: 1, Partitioning: RoundRobin})
	w0, w1, w2 := ex.Writer(0), ex.Writer(1), ex.Writer(2)
	g := NewInputGate(ex.Channels(0)...)
	runSteps(t, g, []step{
		{"w0 at 100, others send none", func(ctx context.Context) error { return w0.EmitProcessingTime(ctx, 100) }, []received{pt(100)}},
		{"w0 watermark", func(ctx context.Context) error { return w0.EmitWatermark(ctx, 7) }, nil},
		{"w1 at 150", func(ctx context.Context) error { return w1.EmitProcessingTime(ctx, 150) }, nil},
		{"record then w0 at 200", func(ctx context.Context) error {
			if err := w0.Write(ctx, nil, []byte("a")); err != nil {
				return err
			}
			return w0.EmitProcessingTime(ctx, 200)
		}, []received{rec("a"), pt(150)}},
		{"w1 ends", func(ctx context.Context) error { return w1.Close(ctx) }, []received{pt(200)}},
		{"w0 to infinity", func(ctx context.Context) error { return w0.EmitProcessingTime(ctx, math.MaxInt64) }, []received{pt(math.MaxInt64)}},
		{"w2 watermark", func(ctx context.Context) error { return w2.EmitWatermark(ctx, 9) }, []received{wm(7)}},
	})
}

func TestGateEndOfDataOnlyAfterAllChannelsEnd(t *testing.T) {
	ex := mustExchange(t, ExchangeConfig{Producers: 3, Consumers: 1, Partitioning: Hash})
	g := NewInputGate(ex.Channels(0)...)
	closeWriter := func(p int) func(context.Context) error {
		return func(ctx context.Context) error { return ex.Writer(p).Close(ctx) }
	}
	runSteps(t, g, []step{
		{"close 2", closeWriter(2), nil},
		{"close 0", closeWriter(0), nil},
		{"close 2 again", closeWriter(2), nil},
		{"close 1", closeWriter(1), []received{endOfData}},
	})
}

func TestGateWithoutChannelsEndsImmediately(t *testing.T) {
	g := NewInputGate()
	if got := pollReady(g); !sameEvents(got, []received{endOfData}) {
		t.Errorf("got %+v, want one end-of-data", got)
	}
	if !g.Done() {
		t.Error("gate not done")
	}
}

// TestFlattenGateMergesTwoExchanges is a Flatten consumer: one gate over the
// channels of two upstream edges.
func TestFlattenGateMergesTwoExchanges(t *testing.T) {
	a := mustExchange(t, ExchangeConfig{Producers: 2, Consumers: 1, Partitioning: Hash})
	b := mustExchange(t, ExchangeConfig{Producers: 1, Consumers: 1, Partitioning: Forward, BufferSize: 256})
	g := NewInputGate(append(a.Channels(0), b.Channels(0)...)...)
	a0, a1, b0 := a.Writer(0), a.Writer(1), b.Writer(0)
	write := func(w *Writer, s string) func(context.Context) error {
		return func(ctx context.Context) error {
			if err := w.Write(ctx, []byte(s), []byte(s)); err != nil {
				return err
			}
			return w.Flush(ctx)
		}
	}
	emit := func(w *Writer, ts int64) func(context.Context) error {
		return func(ctx context.Context) error { return w.EmitWatermark(ctx, ts) }
	}
	closeW := func(w *Writer) func(context.Context) error {
		return func(ctx context.Context) error { return w.Close(ctx) }
	}
	runSteps(t, g, []step{
		{"a0 record", write(a0, "a0"), []received{rec("a0")}},
		{"b0 record", write(b0, "b0"), []received{rec("b0")}},
		{"a0 at 100", emit(a0, 100), nil},
		{"a1 at 100", emit(a1, 100), nil},
		{"b0 at 50", emit(b0, 50), []received{wm(50)}},
		{"a1 record", write(a1, "a1"), []received{rec("a1")}},
		{"a ends", func(ctx context.Context) error {
			if err := a0.Close(ctx); err != nil {
				return err
			}
			return a1.Close(ctx)
		}, nil},
		{"b0 at 200", emit(b0, 200), []received{wm(200)}},
		{"b0 ends", closeW(b0), []received{endOfData}},
	})
}

func TestGateAvailableWakesWaitingReader(t *testing.T) {
	ex := mustExchange(t, ExchangeConfig{Producers: 1, Consumers: 1})
	g := NewInputGate(ex.Channels(0)...)
	if _, ok := g.Poll(); ok {
		t.Fatal("Poll on an idle gate returned an event")
	}
	<-g.Available() // the initial token
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		w := ex.Writer(0)
		if err := w.Write(ctx, nil, []byte("wake")); err != nil {
			done <- err
			return
		}
		done <- w.Flush(ctx)
	}()
	select {
	case <-g.Available():
	case <-ctx.Done():
		t.Fatal("Available never became ready")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := pollReady(g); !sameEvents(got, []received{rec("wake")}) {
		t.Errorf("got %+v, want the record", got)
	}
}

func TestProducersMayStartBeforeTheGateExists(t *testing.T) {
	ctx := context.Background()
	ex := mustExchange(t, ExchangeConfig{Producers: 1, Consumers: 1})
	w := ex.Writer(0)
	if err := w.Write(ctx, nil, []byte("early")); err != nil {
		t.Fatal(err)
	}
	if err := w.EmitWatermark(ctx, 7); err != nil {
		t.Fatal(err)
	}
	g := NewInputGate(ex.Channels(0)...)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pollReady(g); !sameEvents(got, []received{rec("early"), wm(7), endOfData}) {
		t.Errorf("got %+v", got)
	}
}

func TestRecordSliceCannotOverwriteTheNextRecord(t *testing.T) {
	ctx := context.Background()
	ex := mustExchange(t, ExchangeConfig{Producers: 1, Consumers: 1})
	w := ex.Writer(0)
	for _, s := range []string{"first", "second"} {
		if err := w.Write(ctx, nil, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	g := NewInputGate(ex.Channels(0)...)
	ev, _ := g.Poll()
	_ = append(ev.Record, strings.Repeat("!", 16)...)
	if ev, _ := g.Poll(); string(ev.Record) != "second" {
		t.Errorf("second record = %q after appending to the first", ev.Record)
	}
}

func TestNewInputGatePanicsOnMiswiring(t *testing.T) {
	ex := mustExchange(t, ExchangeConfig{Producers: 1, Consumers: 1})
	NewInputGate(ex.Channels(0)...)
	for name, chans := range map[string][]*InputChannel{
		"already bound": ex.Channels(0),
		"nil channel":   {nil},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: NewInputGate did not panic", name)
				}
			}()
			NewInputGate(chans...)
		}()
	}
}

func TestMalformedBufferIsReportedNotPanicked(t *testing.T) {
	ex := mustExchange(t, ExchangeConfig{Producers: 1, Consumers: 1})
	ch := ex.Channels(0)[0]
	g := NewInputGate(ch)
	// A length prefix promising more bytes than the buffer holds, as a
	// faulty network transport could deliver.
	if !(localSender{ch: ch}).TrySend(&Buffer{data: []byte{0x7f, 'x'}, trailer: trailerWatermark, watermark: 3}) {
		t.Fatal("no credit for the malformed buffer")
	}
	if got := pollReady(g); !sameEvents(got, []received{wm(3)}) {
		t.Errorf("got %+v, want the trailer watermark only", got)
	}
	if g.Err() == nil {
		t.Error("Err() = nil after a malformed buffer")
	}
}

func TestGateWatermarkStartsAtMinInt64(t *testing.T) {
	ex := mustExchange(t, ExchangeConfig{Producers: 1, Consumers: 1})
	g := NewInputGate(ex.Channels(0)...)
	if g.Watermark() != math.MinInt64 {
		t.Errorf("initial watermark %d, want MinInt64", g.Watermark())
	}
}
