package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-runner/sluice/tools/conformance/jobserver"
)

const (
	runnerSluice = "sluice"
	runnerPrism  = "prism"
)

// buildTimeout bounds `go build` of one pipeline (the first build compiles the Beam SDK).
const buildTimeout = 10 * time.Minute

// prismReady matches the line prism logs (with -log_kind=text) once its Job API listens,
// e.g. `level=INFO msg="Serving JobManagement" endpoint=localhost:8073`; as in
// tools/bench/driver.
var prismReady = regexp.MustCompile(`Serving JobManagement.*endpoint="?([^\s"]+)`)

// env is the state of one driver invocation.
type env struct {
	opts   options
	tmp    string // pipeline binaries and Sluice data directories; removed at the end
	stderr io.Writer
	builds time.Duration // total time spent building pipelines
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "modelcheck: "+format+"\n", args...)
}

// runResult is how one pipeline ran on one runner.
type runResult struct {
	ran      bool // false if the pipeline was not run (build failed, interrupted)
	seconds  float64
	err      error    // nil if the run exited 0 and its output could be read
	timedOut bool     // the run was killed after --timeout
	lines    []string // sorted output lines, if err is nil
	log      string   // the pipeline's log
	note     string   // trouble that does not decide the outcome, e.g. an unclean server stop
}

// pipelineResult is everything one pipeline did.
type pipelineResult struct {
	p        *pipeline
	buildErr error
	sluice   runResult
	prism    runResult
	// prismSkipped: --sluice-only.
	prismSkipped bool
}

// run checks the selected pipelines, prints the table and returns the exit code.
func run(ctx context.Context, o options, stdout, stderr io.Writer) int {
	start := time.Now()
	pipes, err := findPipelines(o.dir, o.pipelines)
	if err != nil {
		fmt.Fprintln(stderr, "modelcheck:", err)
		return exitSetup
	}
	bins := []string{o.sluice, o.prism}
	if o.sluiceOnly {
		bins = bins[:1]
	}
	for _, bin := range bins {
		if _, err := os.Stat(bin); err != nil {
			fmt.Fprintf(stderr, "modelcheck: %v (build it with `make modelcheck`, or pass --sluice/--prism)\n", err)
			return exitSetup
		}
	}
	for _, sub := range []string{"output", "logs"} {
		d := filepath.Join(o.out, sub)
		if err := os.RemoveAll(d); err != nil {
			fmt.Fprintln(stderr, "modelcheck:", err)
			return exitSetup
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			fmt.Fprintln(stderr, "modelcheck:", err)
			return exitSetup
		}
	}
	tmp, err := os.MkdirTemp("", "modelcheck-")
	if err != nil {
		fmt.Fprintln(stderr, "modelcheck:", err)
		return exitSetup
	}
	defer os.RemoveAll(tmp)
	e := &env{opts: o, tmp: tmp, stderr: stderr}

	var results []*pipelineResult
	for _, p := range pipes {
		r := &pipelineResult{p: p}
		if ctx.Err() != nil {
			r.buildErr = fmt.Errorf("not run: %w", ctx.Err())
		} else {
			checkPipeline(ctx, e, r)
		}
		results = append(results, r)
	}
	failed := report(stdout, results)
	fmt.Fprintf(stdout, "\n%d pipelines, %d failed, in %s (%s of it building); outputs in %s, logs in %s\n",
		len(results), failed, time.Since(start).Round(100*time.Millisecond), e.builds.Round(100*time.Millisecond),
		filepath.Join(o.out, "output"), filepath.Join(o.out, "logs"))
	if failed > 0 || ctx.Err() != nil {
		return exitCheck
	}
	return exitOK
}

// checkPipeline builds r's pipeline and runs it on Sluice and then on prism.
func checkPipeline(ctx context.Context, e *env, r *pipelineResult) {
	p := r.p
	bin := filepath.Join(e.tmp, "bin", p.name)
	e.logf("%s: building %s", p.name, p.pkg)
	start := time.Now()
	err := build(ctx, e.opts.goCmd, p.pkg, bin)
	e.builds += time.Since(start)
	if err != nil {
		r.buildErr = err
		return
	}
	defer os.Remove(bin) // 100+ MB each
	runners := []string{runnerSluice, runnerPrism}
	if e.opts.sluiceOnly {
		runners, r.prismSkipped = runners[:1], true
	}
	for _, runner := range runners {
		res := runOn(ctx, e, p, bin, runner)
		state := fmt.Sprintf("%d lines", len(res.lines))
		if res.err != nil {
			state = res.err.Error()
		}
		e.logf("%s: %s: %.1f s, %s", p.name, runner, res.seconds, state)
		if runner == runnerSluice {
			r.sluice = res
		} else {
			r.prism = res
		}
	}
}

// build compiles pkg into bin. The go command and the compilers and linker it starts run
// in a process group of their own, killed on timeout or interrupt.
func build(ctx context.Context, goCmd, pkg, bin string) error {
	bctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(bctx, goCmd, "build", "-o", bin, pkg)
	jobserver.SetGroup(cmd)
	cmd.Cancel = func() error { return jobserver.KillGroup(cmd, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// serverConfig says how to start a fresh job server of runner; Sluice keeps its state in
// dataDir.
func serverConfig(o options, runner, dataDir string) jobserver.Config {
	cfg := jobserver.Config{StartTimeout: 60 * time.Second, Grace: 15 * time.Second}
	switch runner {
	case runnerSluice:
		cfg.Command = o.sluice
		cfg.Args = []string{"serve", "--job-port=0", "--data-dir=" + dataDir}
		cfg.Ready = jobserver.DefaultReady
	case runnerPrism:
		cfg.Command = o.prism
		// No web UI: its fixed port could clash with another prism on the machine.
		cfg.Args = []string{"-job_port=0", "-log_kind=text", "-serve_http=false"}
		cfg.Ready = prismReady
	}
	return cfg
}

// runOn runs the pipeline binary on a fresh job server of runner and reads its output.
func runOn(ctx context.Context, e *env, p *pipeline, bin, runner string) (res runResult) {
	name := p.name + "-" + runner
	res.log = filepath.Join(e.opts.out, "logs", name+".log")
	dataDir := filepath.Join(e.tmp, "data", name)
	serverLog := filepath.Join(e.opts.out, "logs", name+"-server.log")
	f, err := os.Create(serverLog)
	if err != nil {
		res.err = err
		return res
	}
	defer f.Close()
	cfg := serverConfig(e.opts, runner, dataDir)
	cfg.Log = f
	srv, err := jobserver.Start(ctx, cfg)
	if err != nil {
		res.err = fmt.Errorf("start %s server: %w (log: %s)", runner, err, serverLog)
		return res
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			res.note = fmt.Sprintf("%s server did not stop cleanly: %v (log: %s)", runner, err, serverLog)
		}
		_ = os.RemoveAll(dataDir)
	}()

	output, err := filepath.Abs(filepath.Join(e.opts.out, "output", name+".txt"))
	if err != nil {
		res.err = err
		return res
	}
	args := []string{
		"--runner=universal", "--endpoint=" + srv.Endpoint(), "--environment_type=LOOPBACK",
		"--output=" + output,
	}
	res.ran = true
	o := jobserver.Run(ctx, bin, args, res.log, e.opts.timeout)
	res.seconds, res.timedOut = o.Wall.Seconds(), o.TimedOut
	if o.Err != nil {
		res.err = fmt.Errorf("%w (log: %s)", o.Err, res.log)
		return res
	}
	if res.lines, err = readSortedLines(output); err != nil {
		res.err = fmt.Errorf("exited 0 but wrote no output: %w (log: %s)", err, res.log)
	}
	return res
}
