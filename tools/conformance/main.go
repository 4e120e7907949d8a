// Command conformance runs the Apache Beam Go SDK integration suite
// (github.com/apache/beam/sdks/v2/go/test/...) against a Beam job server and
// compares the outcome with the committed expected-pass list.
//
// It starts the server itself (default: bin/sluice serve --job-port=0
// --data-dir=<tmp>, ready when it logs job_endpoint=HOST:PORT) or uses an
// already running one (--endpoint). Each test package is compiled once from
// the nested module in conformance/, then every top-level test runs in its own
// process with -runner=universal -endpoint=... -environment_type=LOOPBACK and
// a timeout, so one hung test costs only its own time. While TestDrain runs,
// the tool plays the operator and calls the Job API's Drain on its job.
//
// Output: a per-test table (leaf tests; subtests are counted, parents are
// not), a final line "N passed, M failed, K skipped", results in
// <out>/results.json and logs in <out>/logs/. Exit status: 0 if every test in
// --expected that was in scope passed, 1 if one did not, 2 on a setup error.
//
// Usage (from the repository root):
//
//	go run ./tools/conformance [flags]
//	go run ./tools/conformance --only-file conformance/expected-pass.txt
//	go run ./tools/conformance --endpoint localhost:8073 --run 'TestCoGBK|TestFlatten'
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK       = 0
	exitExpected = 1 // an expected test did not pass
	exitSetup    = 2 // bad flags, server or toolchain trouble
)

func run(ctx context.Context, args []string) int {
	cfg, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		return exitSetup
	}
	code, err := conform(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
	}
	return code
}
