package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// A workload is one pipeline program and the sizes it runs at.
type workload struct {
	name string
	pkg  string // Go package of the pipeline program
	// direct says whether Beam's Go direct runner can run it.
	direct bool
	// reference is the Go package of a hand-written plain-Go program doing the same work
	// (tools/bench/reference), run with the same arguments; empty if there is none.
	reference string
	// capped marks workloads whose throughput Beam's synthetic source caps (see caveat).
	capped bool
	// optIn workloads run only when named: they take too long for the full run.
	optIn bool
	// prepare returns the run parameters for one mode. env gives access to directories.
	prepare func(env *env, quick bool) (*prepared, error)
}

// prepared is a workload ready to run.
type prepared struct {
	records int64  // records the pipeline reads
	input   string // short description of the input, e.g. "1M × 100 B"
	// args returns the pipeline's own flags for one run (runner flags are added by the
	// driver); outPath is where it must write its output ("" if it writes none).
	args func(outPath string) []string
	// writesOutput says whether runs produce an output file to compare across runners.
	writesOutput bool
	// cleanup, if set, removes the input once the workload is done.
	cleanup func()
}

// Sizes: full mode aims at 10–25 s per prism run on 2 cores (a full run of every workload
// then takes under 20 minutes), quick mode at a whole run of under 3 minutes.
const (
	wordcountFullBytes  = 50 << 20
	wordcountQuickBytes = 5 << 20
	textSeed            = 1
)

// synthetic returns a workload over Beam's synthetic source; the co flag adds a second,
// equally large source (--co_input_options, for cogbk).
func synthetic(name string, full, quick int64, capped, co bool) workload {
	return workload{
		name:   name,
		pkg:    "github.com/apache/beam/sdks/v2/go/test/load/" + name,
		direct: true,
		capped: capped,
		prepare: func(_ *env, q bool) (*prepared, error) {
			n := full
			if q {
				n = quick
			}
			opt := syntheticOptions(n)
			p := &prepared{records: n, input: humanCount(n) + " × 100 B"}
			extra := []string{}
			if co {
				p.records = 2 * n
				p.input = "2 × " + p.input
				extra = append(extra, "--co_input_options="+opt)
			}
			p.args = func(string) []string {
				return append([]string{"--input_options=" + opt}, extra...)
			}
			return p, nil
		},
	}
}

func withReference(w workload, pkg string) workload {
	w.reference = pkg
	return w
}

// syntheticOptions is the --input_options JSON of Beam's synthetic source.
func syntheticOptions(records int64) string {
	return fmt.Sprintf(`{"num_records":%d,"key_size":10,"value_size":90}`, records)
}

var workloads = []workload{
	{
		name:      "wordcount",
		pkg:       "./testdata/wordcount",
		direct:    true,
		reference: "./tools/bench/reference/wordcount",
		prepare: func(e *env, quick bool) (*prepared, error) {
			size := int64(wordcountFullBytes)
			if quick {
				size = wordcountQuickBytes
			}
			path := filepath.Join(e.dir("input"), "words-"+strconv.FormatInt(size, 10)+".txt")
			lines, err := writeText(path, size, textSeed)
			if err != nil {
				return nil, err
			}
			return &prepared{
				records:      lines,
				input:        fmt.Sprintf("%d MiB text (lines)", size>>20),
				writesOutput: true,
				cleanup:      func() { _ = os.Remove(path) },
				args: func(out string) []string {
					return []string{"--input=" + path, "--output=" + out}
				},
			}, nil
		},
	},
	withReference(synthetic("pardo", 1_200_000, 200_000, true, false), "./tools/bench/reference/pardo"),
	synthetic("group_by_key", 300_000, 100_000, false, false),
	synthetic("combine", 300_000, 100_000, true, false),
	synthetic("cogbk", 200_000, 50_000, false, true),
	// sideinput's side input comes from the synthetic source: its seeding is most of the work.
	synthetic("sideinput", 1_000_000, 100_000, true, false),
	withReference(nexmark(0), nexmarkReference), withReference(nexmark(1), nexmarkReference), withReference(nexmark(2), nexmarkReference),
	nexmark(3), nexmark(4), nexmark(5), nexmark(7), nexmark(8),
	{
		// Per-key count in value state plus one event-time timer per key: three Fn API
		// state round trips per element on any runner (the Go SDK caches no user state).
		// 10M elements over 1M keys take about 16 minutes on Sluice with 2 CPUs, much
		// longer on prism. Named to run: --workloads=stateful_count (make bench-state).
		name: "stateful_count",
		pkg:  "./testdata/statefulcount",
		// direct is false: the direct runner has no user state (its state provider is nil).
		optIn: true,
		prepare: func(_ *env, quick bool) (*prepared, error) {
			n, keys := int64(10_000_000), int64(1_000_000)
			if quick {
				n, keys = 100_000, 10_000
			}
			return &prepared{
				records:      n,
				input:        fmt.Sprintf("%s elements, %s keys (generated)", humanCount(n), humanCount(keys)),
				writesOutput: true,
				args: func(out string) []string {
					return []string{"--elements=" + strconv.FormatInt(n, 10), "--keys=" + strconv.FormatInt(keys, 10), "--output=" + out}
				},
			}, nil
		},
	},
}

// defaultWorkloads are the workloads a run without --workloads runs.
func defaultWorkloads() []string {
	var names []string
	for _, w := range workloads {
		if !w.optIn {
			names = append(names, w.name)
		}
	}
	return names
}

// nexmarkEvents are the Nexmark event counts per query in full mode, each aiming at 10–15 s
// per prism run on 2 cores: the queries' costs per event differ by an order of magnitude
// (query 0 writes every event, query 4 shuffles every bid, query 7 combines them in
// the SDK harness). Quick mode runs every query on nexmarkQuickEvents.
var nexmarkEvents = map[int]int64{
	0: 500_000, 1: 500_000, 2: 8_000_000, 3: 6_000_000,
	4: 300_000, 5: 2_000_000, 7: 5_000_000, 8: 2_000_000,
}

const nexmarkQuickEvents = 100_000

// nexmarkReference is the hand-written program of the Nexmark queries that keep nothing
// across events (0, 1, 2).
const nexmarkReference = "./tools/bench/reference/nexmark"

// nexmarkPrefix starts the names of the Nexmark workloads.
const nexmarkPrefix = "nexmark_q"

// nexmark returns the workload of Nexmark query q (testdata/nexmark over events generated
// in the pipeline, see tools/bench/nexmark); its records are the events.
func nexmark(q int) workload {
	return workload{
		name:   nexmarkPrefix + strconv.Itoa(q),
		pkg:    "./testdata/nexmark",
		direct: true,
		prepare: func(_ *env, quick bool) (*prepared, error) {
			n := nexmarkEvents[q]
			if quick {
				n = nexmarkQuickEvents
			}
			return &prepared{
				records:      n,
				input:        humanCount(n) + " events (generated)",
				writesOutput: true,
				args: func(out string) []string {
					return []string{"--query=" + strconv.Itoa(q), "--events=" + strconv.FormatInt(n, 10), "--output=" + out}
				},
			}, nil
		},
	}
}

func workloadNames() []string {
	names := make([]string, len(workloads))
	for i, w := range workloads {
		names[i] = w.name
	}
	return names
}

func findWorkload(name string) *workload {
	for i := range workloads {
		if workloads[i].name == name {
			return &workloads[i]
		}
	}
	return nil
}

// humanCount renders 1500000 as "1.5M" and 200000 as "200K".
func humanCount(n int64) string {
	switch {
	case n >= 1_000_000 && n%100_000 == 0:
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + "M"
	case n >= 1_000 && n%100 == 0:
		return strconv.FormatFloat(float64(n)/1e3, 'f', -1, 64) + "K"
	}
	return strconv.FormatInt(n, 10)
}
