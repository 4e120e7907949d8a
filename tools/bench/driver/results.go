package main

import (
	"fmt"
	"time"
)

// The runners, in the order they run within a round.
const (
	runnerSluice = "sluice"
	runnerPrism  = "prism"
	runnerDirect = "direct"
	// runnerHandwritten is a workload's hand-written plain-Go reference program
	// (tools/bench/reference), where it has one: the limit, not a runner.
	runnerHandwritten = "handwritten"
	// runnerNative is Sluice running the program built with its sluicegen file: the
	// stages with generated chains native, the others portable.
	runnerNative = "sluice-native"
)

// Workload statuses.
const (
	statusOK       = "ok"
	statusFailed   = "failed"   // a build, server or run failed
	statusMismatch = "mismatch" // all runs completed but outputs disagree
	statusSkipped  = "skipped"  // not run because an earlier workload failed
)

// caveat is the note on Beam's synthetic source.
const caveat = "Beam's synthetic load-test source spends ~10 µs per element seeding its random generator: " +
	"about 100 K records/s per core on any runner, most of the work in pardo, combine and sideinput (whose side input it generates)."

// Results is the whole report, written as OUT/results.json.
type Results struct {
	Started       time.Time        `json:"started"`
	Finished      time.Time        `json:"finished"`
	Mode          string           `json:"mode"` // "quick" or "full"
	RunsPerRunner int              `json:"runs_per_runner"`
	Host          Host             `json:"host"`
	Caveat        string           `json:"caveat"`
	Workloads     []WorkloadResult `json:"workloads"`
}

// Host describes the machine.
type Host struct {
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
}

// WorkloadResult is one workload on every runner.
type WorkloadResult struct {
	Name    string `json:"name"`
	Records int64  `json:"records"`
	Input   string `json:"input"`
	// Capped marks workloads whose rate Beam's synthetic source caps (see Caveat).
	Capped   bool          `json:"capped_by_synthetic_source"`
	Status   string        `json:"status"`
	Problems []string      `json:"problems,omitempty"` // why the status is not ok
	Notes    []string      `json:"notes,omitempty"`    // warnings that do not fail the workload
	Sluice   *RunnerResult `json:"sluice"`
	Prism    *RunnerResult `json:"prism"`
	Direct   *RunnerResult `json:"direct"`
	// Handwritten is the plain-Go reference program, nil where the workload has none.
	Handwritten *RunnerResult `json:"handwritten,omitempty"`
	// Native is the program built with its generated file, on Sluice; NativeStages says
	// how many of its SDK stages had a chain ("native/SDK stages").
	Native       *RunnerResult `json:"sluice_native,omitempty"`
	NativeStages string        `json:"native_stages,omitempty"`
	// SpeedupVsPrism is prism's median seconds / Sluice's; >1 means Sluice is faster.
	SpeedupVsPrism *float64 `json:"speedup_vs_prism"`
	// SpeedupVsDirect is the direct runner's median seconds / Sluice's.
	SpeedupVsDirect *float64 `json:"speedup_vs_direct"`
	// SluiceOverHandwritten is Sluice's median seconds / the hand-written program's: how
	// many times the plain-Go time Sluice takes.
	SluiceOverHandwritten *float64 `json:"sluice_over_handwritten,omitempty"`
	// NativeSpeedupVsPrism is prism's median / native Sluice's; NativeOverHandwritten is
	// native Sluice's median / the hand-written program's.
	NativeSpeedupVsPrism  *float64 `json:"native_speedup_vs_prism,omitempty"`
	NativeOverHandwritten *float64 `json:"native_over_handwritten,omitempty"`

	setupProblems []string // build errors and the like, kept across summarize calls
}

// fail records a problem that is not tied to one run, such as a failed build.
func (w *WorkloadResult) fail(format string, args ...any) {
	w.setupProblems = append(w.setupProblems, fmt.Sprintf(format, args...))
}

// RunnerResult is one workload on one runner.
type RunnerResult struct {
	Runner string `json:"runner"`
	// Available is false where the runner cannot run the workload ("n/a").
	Available bool        `json:"available"`
	Error     string      `json:"error,omitempty"` // e.g. the server did not start
	Runs      []RunResult `json:"runs"`
	// MedianSeconds is over the runs that exited 0; nil if none did.
	MedianSeconds    *float64 `json:"median_seconds"`
	RecordsPerSecond *float64 `json:"records_per_second"`
	// ServerPeakRSSMB is the server process's VmHWM after the workload (nil for direct).
	ServerPeakRSSMB *float64 `json:"server_peak_rss_mb"`
	// PipelinePeakRSSMB is the largest MaxRSS of the pipeline processes, which run the SDK
	// harness (and, for direct, the whole runner).
	PipelinePeakRSSMB *float64 `json:"pipeline_peak_rss_mb"`
	// PipelineCPUSeconds is the median CPU time (user + system) of the pipeline processes
	// over the runs that exited 0. In LOOPBACK mode that is the SDK harness's work, which
	// no runner can take away: the runner's wall time cannot go below it over the CPUs.
	PipelineCPUSeconds *float64 `json:"pipeline_cpu_seconds"`
}

// RunResult is one pipeline process.
type RunResult struct {
	Run      int     `json:"run"` // 1-based
	Seconds  float64 `json:"seconds"`
	ExitCode int     `json:"exit_code"` // -1 if killed
	TimedOut bool    `json:"timed_out,omitempty"`
	// OutputMatches is nil where the workload writes no output or the run did not complete.
	OutputMatches      *bool   `json:"output_matches,omitempty"`
	OK                 bool    `json:"ok"` // exited 0 and its output (if any) agrees
	PipelinePeakRSSMB  float64 `json:"pipeline_peak_rss_mb"`
	PipelineCPUSeconds float64 `json:"pipeline_cpu_seconds"`
	Error              string  `json:"error,omitempty"`
	Log                string  `json:"log"`
	Output             string  `json:"output,omitempty"` // the file it wrote, if any
}

// completed says whether the run exited 0, so that its time counts.
func (r RunResult) completed() bool { return r.ExitCode == 0 && !r.TimedOut }

// runner returns the result of the named runner.
func (w *WorkloadResult) runner(name string) *RunnerResult {
	switch name {
	case runnerSluice:
		return w.Sluice
	case runnerPrism:
		return w.Prism
	case runnerDirect:
		return w.Direct
	case runnerHandwritten:
		return w.Handwritten
	case runnerNative:
		return w.Native
	}
	return nil
}

// runners returns the three runners' results.
func (w *WorkloadResult) runners() []*RunnerResult {
	return []*RunnerResult{w.Sluice, w.Prism, w.Direct}
}

// programs returns the runners' results and the hand-written program's, if any.
func (w *WorkloadResult) programs() []*RunnerResult {
	all := w.runners()
	for _, r := range []*RunnerResult{w.Native, w.Handwritten} {
		if r != nil {
			all = append(all, r)
		}
	}
	return all
}

// summarize fills in medians, rates, peak pipeline RSS, speedups and the status from the
// runs and the problems recorded with fail. It may be called more than once.
func (w *WorkloadResult) summarize() {
	w.Problems = append([]string(nil), w.setupProblems...)
	failed := len(w.Problems) > 0
	mismatch := false
	for _, r := range w.programs() {
		if r == nil || !r.Available {
			continue
		}
		if r.Error != "" {
			failed = true
			w.Problems = append(w.Problems, r.Runner+": "+r.Error)
		}
		var secs, cpu []float64
		peak := -1.0
		for _, run := range r.Runs {
			if run.completed() {
				secs = append(secs, run.Seconds)
				cpu = append(cpu, run.PipelineCPUSeconds)
			}
			if run.PipelinePeakRSSMB > peak {
				peak = run.PipelinePeakRSSMB
			}
			if run.OK {
				continue
			}
			if run.completed() && run.OutputMatches != nil && !*run.OutputMatches {
				mismatch = true
				w.Problems = append(w.Problems, fmt.Sprintf("%s run %d: output differs: %s", r.Runner, run.Run, run.Error))
			} else {
				failed = true
				w.Problems = append(w.Problems, fmt.Sprintf("%s run %d: %s (log: %s)", r.Runner, run.Run, run.Error, run.Log))
			}
		}
		r.MedianSeconds, r.RecordsPerSecond, r.PipelinePeakRSSMB, r.PipelineCPUSeconds = nil, nil, nil, nil
		if m, ok := median(secs); ok {
			r.MedianSeconds = ptr(m)
			if m > 0 {
				r.RecordsPerSecond = ptr(float64(w.Records) / m)
			}
		}
		if m, ok := median(cpu); ok {
			r.PipelineCPUSeconds = ptr(m)
		}
		if peak >= 0 {
			r.PipelinePeakRSSMB = ptr(peak)
		}
	}
	w.SpeedupVsPrism = speedup(medianOf(w.Prism), medianOf(w.Sluice))
	w.SpeedupVsDirect = speedup(medianOf(w.Direct), medianOf(w.Sluice))
	w.SluiceOverHandwritten = speedup(medianOf(w.Sluice), medianOf(w.Handwritten))
	w.NativeSpeedupVsPrism = speedup(medianOf(w.Prism), medianOf(w.Native))
	w.NativeOverHandwritten = speedup(medianOf(w.Native), medianOf(w.Handwritten))
	switch {
	case w.Status == statusSkipped:
	case failed:
		w.Status = statusFailed
	case mismatch:
		w.Status = statusMismatch
	default:
		w.Status = statusOK
	}
}

func medianOf(r *RunnerResult) *float64 {
	if r == nil || !r.Available {
		return nil
	}
	return r.MedianSeconds
}
