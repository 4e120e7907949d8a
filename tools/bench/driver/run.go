package main

import (
	"github.com/sluice-runner/sluice/tools/conformance/jobserver"

	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"
)

// env is the state of one driver invocation.
type env struct {
	opts   options
	stderr io.Writer
	// builds holds each pipeline package's binary, shared by the workloads that run it
	// (the eight Nexmark workloads run one program; linking it takes seconds).
	builds map[string]*pipelineBinary
	// sluicegen is tools/sluicegen, built on first use for the native column.
	sluicegen    string
	sluicegenErr error
}

// pipelineBinary is a built pipeline package and how many selected workloads still need it.
type pipelineBinary struct {
	path  string
	err   error
	built bool
	users int
}

// dir returns OUT/name, creating it.
func (e *env) dir(name string) string {
	p := filepath.Join(e.opts.out, name)
	_ = os.MkdirAll(p, 0o755)
	return p
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "bench: "+format+"\n", args...)
}

// run runs the selected workloads, prints the table to stdout and writes the result files.
// It returns an error if any workload did not come out ok.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	e := &env{opts: o, stderr: stderr, builds: map[string]*pipelineBinary{}}
	for _, name := range o.workloads {
		if w := findWorkload(name); w != nil {
			e.pipeline(w).users++
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	for _, bin := range []string{o.sluice, o.prism} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%w (build it with `make bench`, or pass --sluice/--prism)", err)
		}
	}
	mode := "full"
	if o.quick {
		mode = "quick"
	}
	res := &Results{
		Started:       time.Now().UTC(),
		Mode:          mode,
		RunsPerRunner: o.runs,
		Host:          Host{OS: goruntime.GOOS, Arch: goruntime.GOARCH, CPUs: goruntime.NumCPU(), GoVersion: goruntime.Version()},
		Caveat:        caveat,
	}
	stopped := false
	for _, name := range o.workloads {
		w := findWorkload(name)
		wr := WorkloadResult{Name: w.name, Capped: w.capped}
		if stopped || ctx.Err() != nil {
			wr.Status = statusSkipped
			if ctx.Err() != nil {
				wr.fail("not run: interrupted")
			} else {
				wr.fail("not run: an earlier workload failed (use --keep-going)")
			}
		} else {
			runWorkload(ctx, e, w, &wr)
		}
		e.release(w)
		wr.summarize()
		res.Workloads = append(res.Workloads, wr)
		if wr.Status != statusOK && !o.keepGoing {
			stopped = true
		}
		res.Finished = time.Now().UTC()
		if err := writeResults(o.out, res); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout)
	renderText(stdout, res)
	fmt.Fprintf(stdout, "\nwritten: %s, %s\n", filepath.Join(o.out, "results.json"), filepath.Join(o.out, "results.md"))
	var bad []string
	for _, w := range res.Workloads {
		if w.Status != statusOK {
			bad = append(bad, w.Name+" "+w.Status)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("not all workloads ok: %s", strings.Join(bad, ", "))
	}
	return ctx.Err()
}

func (e *env) pipeline(w *workload) *pipelineBinary {
	b := e.builds[w.pkg]
	if b == nil {
		b = &pipelineBinary{}
		e.builds[w.pkg] = b
	}
	return b
}

// binary returns the workload's pipeline program, building it into OUT/bin/NAME (NAME of
// the first workload of its package) unless an earlier workload did.
func (e *env) binary(ctx context.Context, w *workload) (string, error) {
	b := e.pipeline(w)
	if b.built {
		if b.err == nil {
			e.logf("%s: reusing %s (%s)", w.name, b.path, w.pkg)
		}
		return b.path, b.err
	}
	e.logf("%s: building %s", w.name, w.pkg)
	b.path, b.err = goBuild(ctx, e, w.name, w.pkg)
	b.built = true
	return b.path, b.err
}

// release says the workload (run or skipped) is done with its pipeline program; the
// program is removed after its package's last workload, since the disk may be small (a binary is 100–150 MB).
func (e *env) release(w *workload) {
	b := e.pipeline(w)
	if b.users--; b.users <= 0 && b.path != "" {
		_ = os.Remove(b.path)
		b.path, b.built = "", false
	}
}

// goBuild compiles pkg into OUT/bin/name, with extra go build flags.
func goBuild(ctx context.Context, e *env, name, pkg string, flags ...string) (string, error) {
	bin, err := filepath.Abs(filepath.Join(e.dir("bin"), name))
	if err != nil {
		return "", err
	}
	bctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	args := append(append([]string{"build", "-o", bin}, flags...), pkg)
	cmd := exec.CommandContext(bctx, e.opts.goCmd, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}

// runWorkload builds and runs one workload on every runner, filling in wr.
func runWorkload(ctx context.Context, e *env, w *workload, wr *WorkloadResult) {
	wr.Sluice = &RunnerResult{Runner: runnerSluice, Available: true, Runs: []RunResult{}}
	wr.Prism = &RunnerResult{Runner: runnerPrism, Available: true, Runs: []RunResult{}}
	wr.Direct = &RunnerResult{Runner: runnerDirect, Available: w.direct, Runs: []RunResult{}}

	bin, err := e.binary(ctx, w)
	if err != nil {
		wr.fail("%v", err)
		return
	}
	refBin := ""
	if w.reference != "" {
		wr.Handwritten = &RunnerResult{Runner: runnerHandwritten, Available: true, Runs: []RunResult{}}
		e.logf("%s: building the hand-written reference %s", w.name, w.reference)
		if refBin, err = goBuild(ctx, e, w.name+"-handwritten", w.reference); err != nil {
			wr.Handwritten.Error = err.Error()
		}
		defer os.Remove(refBin)
	}
	p, err := w.prepare(e, e.opts.quick)
	if err != nil {
		wr.fail("prepare input: %v", err)
		return
	}
	if p.cleanup != nil {
		defer p.cleanup()
	}
	wr.Records, wr.Input = p.records, p.input

	portable, err := portableFlags(ctx, e, w.pkg)
	if err != nil {
		wr.fail("%v", err)
		return
	}
	wr.Native = &RunnerResult{Runner: runnerNative, Available: true, Runs: []RunResult{}}
	e.logf("%s: generating and building its native chains", w.name)
	nb, err := e.buildNative(ctx, w, p)
	switch {
	case errors.Is(err, errModuleCache):
		wr.Native.Available = false
		wr.Notes = append(wr.Notes, "native: n/a, "+err.Error())
	case err != nil:
		wr.Native.Error = err.Error()
	case nb.native == 0:
		wr.Native.Available = false
		wr.NativeStages = nb.stagesText()
		wr.Notes = append(wr.Notes, fmt.Sprintf("native: no SDK stage has a chain yet (see the reasons in %s)", nb.generated))
	default:
		wr.NativeStages = nb.stagesText()
		defer os.Remove(nb.bin)
	}

	// One fresh server per runner for the whole workload.
	servers := map[string]*server{}
	defer func() {
		for _, s := range servers {
			_ = s.stop()
		}
	}()
	for _, r := range []string{runnerSluice, runnerPrism} {
		s, err := startServer(ctx, e, r, w.name)
		if err != nil {
			wr.runner(r).Error = "start server: " + err.Error()
			continue
		}
		e.logf("%s: %s server pid %d at %s", w.name, r, s.pid, s.Endpoint())
		servers[r] = s
	}

	outDir := filepath.Join(e.dir("output"), w.name)
	_ = os.RemoveAll(outDir)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		wr.fail("%v", err)
		return
	}
	logDir := e.dir("logs")
rounds:
	for i := 1; i <= e.opts.runs; i++ {
		for _, r := range roundOrder(i) {
			rr := wr.runner(r)
			if rr == nil || !rr.Available || rr.Error != "" {
				continue
			}
			if ctx.Err() != nil {
				break rounds
			}
			prog, args := bin, append([]string{"--runner=direct"}, portable...)
			switch s := servers[r]; {
			case s != nil:
				args = append([]string{"--runner=universal", "--endpoint=" + s.Endpoint(), "--environment_type=LOOPBACK"}, portable...)
			case r == runnerNative && servers[runnerSluice] != nil:
				prog = nb.bin
				args = []string{"--runner=universal", "--endpoint=" + servers[runnerSluice].Endpoint(), "--environment_type=LOOPBACK"}
			case r == runnerNative:
				continue // no Sluice server to run on
			case r == runnerHandwritten:
				prog, args = refBin, nil
			}
			outPath := ""
			if p.writesOutput {
				outPath = filepath.Join(outDir, fmt.Sprintf("%s-%d.txt", r, i))
			}
			args = append(args, p.args(outPath)...)
			logPath := filepath.Join(logDir, fmt.Sprintf("%s-%s-%d.log", w.name, r, i))
			o := jobserver.Run(ctx, prog, args, logPath, e.opts.timeout)
			run := RunResult{
				Run:                i,
				Seconds:            o.Wall.Seconds(),
				ExitCode:           o.ExitCode,
				TimedOut:           o.TimedOut,
				PipelinePeakRSSMB:  kibToMB(maxRSSOf(o.State)),
				PipelineCPUSeconds: cpuSecondsOf(o.State),
				Log:                logPath,
				Output:             outPath,
				OK:                 o.Err == nil,
			}
			if o.Err != nil {
				run.Error = o.Err.Error()
			}
			rr.Runs = append(rr.Runs, run)
			state := "ok"
			if o.Err != nil {
				state = o.Err.Error()
			}
			e.logf("%s: %s run %d/%d: %.2f s, pipeline %.0f MB, %.2f s CPU, %s", w.name, r, i, e.opts.runs, run.Seconds, run.PipelinePeakRSSMB, run.PipelineCPUSeconds, state)
		}
	}

	for r, s := range servers {
		if kib, err := s.peakRSS(); err != nil {
			wr.Notes = append(wr.Notes, fmt.Sprintf("%s server peak RSS unknown: %v", r, err))
		} else {
			wr.runner(r).ServerPeakRSSMB = ptr(kibToMB(kib))
		}
		if err := s.stop(); err != nil {
			wr.Notes = append(wr.Notes, fmt.Sprintf("%s server did not stop cleanly: %v", r, err))
		}
		delete(servers, r)
	}
	_ = os.RemoveAll(filepath.Join(e.dir("data"), w.name))

	if p.writesOutput {
		compareOutputs(wr)
	}
}

// roundOrder is the order of the runners in round i (1-based): Sluice and prism take turns
// going first, so neither always runs on a machine the other has just warmed or loaded.
func roundOrder(i int) []string {
	if i%2 == 0 {
		return []string{runnerPrism, runnerSluice, runnerNative, runnerDirect, runnerHandwritten}
	}
	return []string{runnerSluice, runnerNative, runnerPrism, runnerDirect, runnerHandwritten}
}

// compareOutputs checks every completed run's output against a reference: the first
// completed prism run, else the first completed run of another runner.
func compareOutputs(wr *WorkloadResult) {
	var ref []string
	var refName string
	for _, r := range []*RunnerResult{wr.Prism, wr.Sluice, wr.Direct} {
		for _, run := range r.Runs {
			if !run.completed() || refName != "" {
				continue
			}
			lines, err := sortedLines(run.Output)
			if err != nil || len(lines) == 0 {
				continue
			}
			ref, refName = lines, fmt.Sprintf("%s run %d", r.Runner, run.Run)
		}
	}
	for _, r := range wr.programs() {
		for i := range r.Runs {
			run := &r.Runs[i]
			if !run.completed() {
				continue
			}
			if refName == "" {
				run.OutputMatches, run.OK = ptr(false), false
				run.Error = "no run wrote a non-empty output to compare with"
				continue
			}
			got, err := sortedLines(run.Output)
			diff := ""
			if err != nil {
				diff = err.Error()
			} else {
				diff = diffLines(ref, got)
			}
			run.OutputMatches = ptr(diff == "")
			if diff != "" {
				run.OK = false
				run.Error = "vs " + refName + ": " + diff
			}
		}
	}
}
