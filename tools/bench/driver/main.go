// Command driver is `make bench`: it measures Sluice against Beam's prism runner on the same
// machine in the same run and reports the ratios, with Beam's in-process Go direct runner as
// a third column where that runner can run the workload.
//
// Every workload is a Beam Go pipeline program, built with `go build` into OUT/bin/ once
// per package (the Nexmark workloads share one program) and run as a separate process per
// run:
//
//   - wordcount: testdata/wordcount over a deterministic text from tools/bench/textgen
//     (50 MiB, 5 MiB with --quick). Its output is compared across runners.
//   - pardo, group_by_key, combine, cogbk, sideinput: Beam's Go load tests
//     (github.com/apache/beam/sdks/v2/go/test/load/...) over Beam's synthetic source with
//     10-byte keys and 90-byte values. They write no output, so only their exit status is
//     checked. Records (full / --quick): pardo 1.2M / 200K, group_by_key 300K / 100K,
//     combine 300K / 100K, cogbk 2 × 200K / 2 × 50K, sideinput 1M / 100K (see
//     workloads.go). prism's time grows faster than linearly on group_by_key, combine and
//     cogbk (81 s, 158 s and 59 s at 1M, 1M and 2 × 500K here), so these sizes keep each
//     prism run near 10–25 s and the full run under 20 minutes.
//   - nexmark_q0, nexmark_q1, nexmark_q2, nexmark_q3, nexmark_q4, nexmark_q5, nexmark_q7,
//     nexmark_q8: testdata/nexmark, one Nexmark query each (tools/bench/nexmark) over
//     events generated inside the pipeline by a splittable DoFn. Records are events: in
//     full mode q0 and q1 500K, q2 8M, q3 6M, q4 300K, q5 and q8 2M, q7 5M (sized for
//     about 10–15 s per prism run, as the queries' costs per event differ tenfold); 100K
//     each with --quick.
//     Their result lines are compared across runners like wordcount's. The report adds
//     Sluice's events/s per core next to nexmark-flink's published per-core figures.
//
// Against Sluice and prism a pipeline runs with --runner=universal --endpoint=HOST:PORT
// --environment_type=LOOPBACK, so the SDK harness runs inside the pipeline process; the
// direct runner runs with --runner=direct. For each workload the driver starts one fresh
// `sluice serve` and one fresh prism process, runs the pipeline on them alternately
// (--runs rounds of sluice, prism, direct, with prism first in even rounds), reads the servers' peak RSS (VmHWM in
// /proc/PID/status) and stops them. Each run records the pipeline process's wall time, its
// exit status, its peak RSS (rusage MaxRSS) and its CPU time.
//
// wordcount, pardo and Nexmark queries 0-2 also have a hand-written plain-Go program doing
// the same work (tools/bench/reference), built and run in every round with the same
// arguments: the limit a compiled pipeline is measured against. The output of wordcount's
// and Nexmark's is checked like the runners'.
//
// The report shows median seconds, records per second, the speedup of Sluice over prism
// (prism median / Sluice median) and over direct, and the peak RSS of each server and
// pipeline process, the pipeline process's CPU time (in LOOPBACK mode the SDK harness's work:
// wall time cannot go below it over the CPUs) and the hand-written program's time. It is printed as a table and written to OUT/results.json and
// OUT/results.md; logs of every server and run are in OUT/logs/. A failed, timed-out or
// disagreeing run is reported in the status column and makes the driver exit 1.
//
// Usage (from the repository root; `make bench` builds bin/sluice and bin/prism first):
//
//	bin/bench [--quick] [--workloads=wordcount,group_by_key] [--runs=N]
//	          [--sluice=bin/sluice] [--prism=bin/prism] [--out=out/bench] [--keep-going] [--profile]
//
// With --profile (`make bench PROFILE=1`) the Sluice server of each workload writes a CPU
// profile of its whole life and a heap profile at its end to OUT/profiles/; read them with
// `go tool pprof bin/sluice OUT/profiles/WORKLOAD-cpu.pprof`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	quick     bool
	workloads []string
	runs      int
	sluice    string
	prism     string
	out       string
	keepGoing bool
	profile   bool
	timeout   time.Duration
	goCmd     string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var workloads string
	fs.BoolVar(&o.quick, "quick", false, "small sizes and 1 run per runner (the whole run takes a few minutes)")
	fs.StringVar(&workloads, "workloads", strings.Join(defaultWorkloads(), ","), "comma-separated workloads to run (stateful_count only when named)")
	fs.IntVar(&o.runs, "runs", 0, "runs per runner and workload (default 3, or 1 with --quick)")
	fs.StringVar(&o.sluice, "sluice", "bin/sluice", "the sluice binary")
	fs.StringVar(&o.prism, "prism", "bin/prism", "Beam's prism binary")
	fs.StringVar(&o.out, "out", "out/bench", "directory for results, logs, inputs and built pipelines")
	fs.BoolVar(&o.keepGoing, "keep-going", false, "run the remaining workloads after one fails")
	fs.BoolVar(&o.profile, "profile", false, "write CPU and heap profiles of the Sluice server to OUT/profiles/WORKLOAD-{cpu,heap}.pprof")
	fs.DurationVar(&o.timeout, "timeout", 0, "bound on one pipeline run (default 10m, or 2m with --quick)")
	fs.StringVar(&o.goCmd, "go", "go", "the go command used to build the pipelines")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: bench [flags]\n\nRuns Beam Go pipelines on Sluice, prism and the direct runner and compares them.\nWorkloads: %s\n\n", strings.Join(workloadNames(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	for _, name := range strings.Split(workloads, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if findWorkload(name) == nil {
			return o, fmt.Errorf("unknown workload %q (have %s)", name, strings.Join(workloadNames(), ", "))
		}
		o.workloads = append(o.workloads, name)
	}
	if len(o.workloads) == 0 {
		return o, errors.New("--workloads selects no workload")
	}
	if o.runs < 0 {
		return o, fmt.Errorf("--runs must be positive, got %d", o.runs)
	}
	if o.runs == 0 {
		o.runs = 3
		if o.quick {
			o.runs = 1
		}
	}
	if o.timeout <= 0 {
		o.timeout = 10 * time.Minute
		if o.quick {
			o.timeout = 2 * time.Minute
		}
	}
	return o, nil
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, opts, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
