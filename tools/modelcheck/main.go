// Command modelcheck is `make modelcheck`: it runs small Beam Go pipelines that use Beam
// model features the way a new user following Beam's documentation would (state and
// timers, triggers and panes, merging and sliding windows, windowed side inputs, a
// splittable DoFn) on Sluice and on Beam's prism runner, and checks that both give the
// result the Beam model prescribes.
//
// Each pipeline is a normal Beam Go program in testdata/modelcheck/NAME/main.go that
// writes its result lines to --output, next to
//
//   - expected.txt: the result lines the Beam model prescribes, worked out by hand and
//     explained in the pipeline's doc comment;
//   - prism.txt (optional): prism's output where prism departs from the model, with
//     '#' comment lines saying why. prism giving exactly these lines is a known
//     deviation, not a failure.
//
// For every pipeline the driver builds the program, then for each runner starts a fresh
// job server (`sluice serve --job-port=0` with a new data directory, or prism with
// -job_port=0), runs the program against it with --runner=universal
// --endpoint=HOST:PORT --environment_type=LOOPBACK --output=FILE, bounded by --timeout,
// and stops the server. Job servers and pipelines run in process groups of their own,
// which are killed when they are done; binaries and data directories live in a temporary
// directory that is removed at the end.
//
// Outputs are compared as sorted lines. The table on stdout has one row per pipeline:
// each runner's outcome (ok: equals expected.txt; DIFFERS; FAILED or TIMED OUT; prism's
// known deviation) and whether Sluice and prism gave the same lines; the differences
// follow it. Outputs and logs stay in OUT/output and OUT/logs.
//
// Exit status: 0 if every pipeline ran on Sluice with the expected result and prism
// either gave the expected result, its documented deviation, or failed (reported as
// "prism failed"); 1 otherwise; 2 on a setup error.
//
// Usage (from the repository root; `make modelcheck` builds bin/sluice and bin/prism):
//
//	bin/modelcheck [--pipelines=a,b] [--sluice=bin/sluice] [--prism=bin/prism]
//	               [--dir=testdata/modelcheck] [--out=out/modelcheck] [--timeout=2m]
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
	sluice    string
	prism     string
	dir       string
	out       string
	pipelines []string // nil means every pipeline in dir
	timeout   time.Duration
	goCmd     string
	// sluiceOnly skips prism: Sluice is checked against expected.txt alone (make test).
	sluiceOnly bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("modelcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var pipelines string
	fs.StringVar(&o.sluice, "sluice", "bin/sluice", "the sluice binary")
	fs.StringVar(&o.prism, "prism", "bin/prism", "Beam's prism binary")
	fs.StringVar(&o.dir, "dir", "testdata/modelcheck", "directory with one pipeline package per subdirectory")
	fs.StringVar(&o.out, "out", "out/modelcheck", "directory for the pipelines' outputs and logs")
	fs.StringVar(&pipelines, "pipelines", "", "comma-separated pipelines to run (default: all in --dir)")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "bound on one pipeline run; the run is killed after it")
	fs.StringVar(&o.goCmd, "go", "go", "the go command used to build the pipelines")
	fs.BoolVar(&o.sluiceOnly, "sluice-only", false, "run on Sluice only and check it against expected.txt (no prism needed)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: modelcheck [flags]\n\nRuns the Beam Go pipelines in --dir on Sluice and prism and compares their results with each other and with expected.txt.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	for _, name := range strings.Split(pipelines, ",") {
		if name = strings.TrimSpace(name); name != "" {
			o.pipelines = append(o.pipelines, name)
		}
	}
	if pipelines != "" && len(o.pipelines) == 0 {
		return o, errors.New("--pipelines selects no pipeline")
	}
	if o.timeout <= 0 {
		return o, fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	return o, nil
}

// Exit codes.
const (
	exitOK    = 0
	exitCheck = 1 // a pipeline failed on Sluice or a result differs
	exitSetup = 2 // bad flags, missing binaries or pipelines
)

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "modelcheck:", err)
		os.Exit(exitSetup)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, opts, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
