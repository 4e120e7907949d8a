// Command pardo is the hand-written reference for Beam's Go pardo load test
// (github.com/apache/beam/sdks/v2/go/test/load/pardo): it generates the synthetic source's
// records exactly as the source's splittable DoFn does (a generator re-seeded per record,
// which is most of the work), runs each through --iterations counter-operation steps and
// counts what comes out, in plain Go on --workers goroutines over equal offset ranges. It
// takes the load test's flags, so the benchmark passes both the same arguments.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/synthetic"
)

func main() {
	inputOptions := flag.String("input_options", "", "the synthetic source's configuration, as JSON (as for the load test)")
	iterations := flag.Int("iterations", 1, "counter-operation steps each record goes through")
	numCounters := flag.Int("number_of_counters", 0, "counters each step increments")
	operations := flag.Int("number_of_counter_operations", 0, "increments of each counter per record and step")
	workers := flag.Int("workers", runtime.NumCPU(), "goroutines generating and processing records")
	flag.Parse()
	if *inputOptions == "" || *workers < 1 {
		fmt.Fprintln(os.Stderr, "pardo: --input_options is required, --workers must be positive")
		os.Exit(2)
	}
	cfg := synthetic.DefaultSourceConfig().BuildFromJSON([]byte(*inputOptions))
	s := step{iterations: *iterations, counters: *numCounters, operations: *operations}
	var wg sync.WaitGroup
	results := make([]sink, *workers)
	for w := range results {
		from, to := int64(w)*cfg.NumElements/int64(*workers), int64(w+1)*cfg.NumElements/int64(*workers)
		wg.Add(1)
		go func(out *sink) {
			defer wg.Done()
			generate(cfg, from, to, func(key, value []byte) { s.apply(key, value, out) })
		}(&results[w])
	}
	wg.Wait()
	var total sink
	for _, r := range results {
		total.records += r.records
		total.bytes += r.bytes
		total.count += r.count
	}
	fmt.Printf("records=%d bytes=%d counter_increments=%d\n", total.records, total.bytes, total.count)
}

// generate emits the records [from, to) of the synthetic source as its ProcessElement does.
func generate(cfg synthetic.SourceConfig, from, to int64, emit func(key, value []byte)) {
	generator := rand.New(rand.NewSource(0))
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := from; i < to; i++ {
		key := make([]byte, cfg.KeySize)
		val := make([]byte, cfg.ValueSize)
		generator.Seed(i)
		if generator.Float64() < cfg.HotKeyFraction {
			generator.Seed(i % cfg.NumHotKeys)
			generator.Read(key)
		} else {
			rng.Read(key)
		}
		rng.Read(val)
		emit(key, val)
	}
}

// step is the load test's counter-operation DoFn, repeated iterations times.
type step struct{ iterations, counters, operations int }

// sink counts what reaches the end, so that nothing is optimized away.
type sink struct{ records, bytes, count int64 }

func (s step) apply(key, value []byte, out *sink) {
	for range s.iterations {
		for range s.operations {
			out.count += int64(s.counters)
		}
	}
	out.records++
	out.bytes += int64(len(key) + len(value))
}
