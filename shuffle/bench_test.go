package shuffle

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// BenchmarkExchangeThroughput measures one 2x2 edge end to end: two producer
// goroutines write b.N records in total, two consumer goroutines read them
// through their gates. One op is one record, so MB/s is record payload.
func BenchmarkExchangeThroughput(b *testing.B) {
	for _, part := range []Partitioning{Forward, Hash} {
		for _, size := range []int{100, 1024} {
			name := fmt.Sprintf("%v_2x2/%dB", part, size)
			if size == 1024 {
				name = fmt.Sprintf("%v_2x2/1KiB", part)
			}
			b.Run(name, func(b *testing.B) {
				benchmarkExchange(b, ExchangeConfig{Producers: 2, Consumers: 2, Partitioning: part}, size)
			})
		}
	}
}

func benchmarkExchange(b *testing.B, cfg ExchangeConfig, size int) {
	ex := mustExchange(b, cfg)
	const distinctKeys = 1024
	keys := make([][]byte, distinctKeys)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user-%d", i)
	}
	record := make([]byte, size)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	gates := make([]*InputGate, cfg.Consumers)
	for q := range gates {
		gates[q] = NewInputGate(ex.Channels(q)...)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()

	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	for p := range cfg.Producers {
		n := b.N / cfg.Producers
		if p == 0 {
			n += b.N % cfg.Producers
		}
		w := ex.Writer(p)
		wg.Go(func() {
			for i := range n {
				if err := w.Write(ctx, keys[i%distinctKeys], record); err != nil {
					fail(err)
					return
				}
			}
			if err := w.Close(ctx); err != nil {
				fail(err)
			}
		})
	}
	var received sync.WaitGroup
	counts := make([]int, cfg.Consumers)
	for q, g := range gates {
		received.Go(func() {
			for {
				ev, ok := g.Poll()
				if !ok {
					select {
					case <-g.Available():
						continue
					case <-ctx.Done():
						return
					}
				}
				switch ev.Kind {
				case EventRecord:
					counts[q]++
				case EventEndOfData:
					return
				}
			}
		})
	}
	wg.Wait()
	received.Wait()
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	if total != b.N {
		b.Fatalf("consumers received %d records, want %d", total, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
