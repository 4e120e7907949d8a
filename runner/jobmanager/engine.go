package jobmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"strings"
	"sync"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sluice-runner/sluice/fnharness"
	"github.com/sluice-runner/sluice/runner/metrics"
	"github.com/sluice-runner/sluice/runner/plan"
)

// Engine runs jobs in this process.
type Engine struct {
	// Fn hosts the Fn API the job's SDK workers connect to.
	Fn     *fnharness.Server
	Logger *slog.Logger
	// Parallelism is the default subtasks per stage (0: number of CPUs); a job's
	// beam:option:parallelism:v1 overrides it.
	Parallelism int
	// StatefulParallelism is the subtasks of a stage with user state or timers (0: see
	// plan.Options.StatefulParallelism); a job's beam:option:stateful_parallelism:v1
	// overrides it.
	StatefulParallelism int
	// State keeps the tasks' state; nil keeps each task store in memory.
	State StateBackend
	// NativeGroupInlineBytes is how many bytes of a group's values a native stage gets in
	// the group's element before it reads the rest from runner state (0:
	// NativeGroupInlineBytes).
	NativeGroupInlineBytes int
}

// workerStopGrace is how long a job's SDK workers outlive its published outcome.
const workerStopGrace = 500 * time.Millisecond

// Job is one job to run.
type Job struct {
	ID, Name       string
	Pipeline       *pipepb.Pipeline
	Options        *structpb.Struct
	RetrievalToken string
	// Message reports a job message (state changes are the job service's business).
	Message func(level slog.Level, text string)
	// Running is called once the job's workers are up and its tasks started.
	Running func()
	// AfterEnd, if set, takes the clean-up that must wait until the job's outcome has
	// been published (stopping its SDK workers); otherwise Execute does it on return.
	AfterEnd func(func())
	// OnDrain, if set, takes the function that starts draining the job.
	OnDrain func(func())
	Metrics *metrics.Aggregator
}

// Validate plans p without running it, so bad pipelines are refused at Prepare.
func (e *Engine) Validate(p *pipepb.Pipeline, opts *structpb.Struct) error {
	g, err := plan.Plan(p, e.planOptions(opts))
	if err != nil {
		return err
	}
	for _, s := range g.Stages {
		env := g.Components.GetEnvironments()[s.EnvironmentID]
		if s.Kind == plan.KindSDK && env.GetUrn() == fnharness.URNEnvDocker {
			return fmt.Errorf("environment %q: %w", s.EnvironmentID, fnharness.ErrDockerUnavailable)
		}
	}
	return nil
}

func (e *Engine) planOptions(opts *structpb.Struct) plan.Options {
	po := plan.Options{Parallelism: e.Parallelism, StatefulParallelism: e.StatefulParallelism}
	if v, ok := opts.GetFields()["beam:option:parallelism:v1"]; ok {
		if n := int(v.GetNumberValue()); n > 0 {
			po.Parallelism = n
		}
	}
	if v, ok := opts.GetFields()["beam:option:stateful_parallelism:v1"]; ok {
		if n := int(v.GetNumberValue()); n > 0 {
			po.StatefulParallelism = n
		}
	}
	return po
}

// Execute runs job to completion. It returns nil when every task finished, ctx.Err() when
// cancelled, or the first failure.
func (e *Engine) Execute(ctx context.Context, job Job) error {
	log := e.Logger.With("job", job.ID)
	g, err := plan.Plan(job.Pipeline, e.planOptions(job.Options))
	if err != nil {
		return fmt.Errorf("planning: %w", err)
	}
	log.Info("planned job", "stages", len(g.Stages), "edges", len(g.Edges))
	if job.Message != nil {
		job.Message(slog.LevelInfo, describeGraph(g, chainedGroups(g)))
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	workers, err := e.startWorkers(ctx, job, g, log)
	var natives map[string]*fnharness.Worker
	stop := func() {
		stopWorkers(natives, log)
		stopWorkers(workers, log)
	}
	if job.AfterEnd != nil {
		job.AfterEnd(func() {
			// Give a LOOPBACK client a moment to receive and log the outcome through
			// the worker's logging stream before the worker goes.
			time.Sleep(workerStopGrace)
			stop()
		})
	} else {
		defer stop()
	}
	if err != nil {
		return err
	}
	natives = e.attachNative(ctx, job, workers, log)
	nativeDescs, err := nativeStages(job, g, natives)
	if err != nil {
		return err
	}
	drain := make(chan struct{})
	if job.OnDrain != nil {
		var once sync.Once
		job.OnDrain(func() {
			once.Do(func() {
				log.Info("draining")
				close(drain)
			})
		})
	}
	tasks, err := buildTasks(job, g, workers, nativeRun{natives, nativeDescs, e.NativeGroupInlineBytes}, e.State, drain, log)
	if err != nil {
		return err
	}
	// A worker that dies fails the job even if no task is waiting on it right now.
	for env, w := range all(workers, natives) {
		go func() {
			select {
			case <-w.Done():
				if err := w.Err(); err != nil {
					cancel(fmt.Errorf("SDK worker of environment %q ended: %w", env, err))
				}
			case <-ctx.Done():
			}
		}()
	}
	if job.Running != nil {
		job.Running()
	}
	start := time.Now()
	err = runTasks(ctx, cancel, tasks)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	log.Info("job ended", "tasks", len(tasks), "elapsed", time.Since(start), "err", err)
	return err
}

// runTasks runs every task in its own goroutine and waits for all of them. The first
// failure cancels the rest.
func runTasks(ctx context.Context, cancel context.CancelCauseFunc, tasks []namedTask) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, t := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := t.task.Run(ctx); err != nil {
				once.Do(func() {
					first = err
					if !strings.HasPrefix(err.Error(), t.name) { // operators name themselves
						first = fmt.Errorf("task %s: %w", t.name, err)
					}
					cancel(first)
				})
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// startWorkers starts one SDK worker per environment that an SDK stage uses and registers
// the stages' descriptors with it.
func (e *Engine) startWorkers(ctx context.Context, job Job, g *plan.JobGraph, log *slog.Logger) (map[string]*fnharness.Worker, error) {
	workers := map[string]*fnharness.Worker{}
	for _, s := range g.Stages {
		if s.Kind != plan.KindSDK {
			continue
		}
		w, ok := workers[s.EnvironmentID]
		if !ok {
			env := g.Components.GetEnvironments()[s.EnvironmentID]
			var err error
			w, err = e.Fn.StartWorker(ctx, fnharness.WorkerConfig{
				JobID:           job.ID,
				EnvID:           s.EnvironmentID,
				Env:             env,
				PipelineOptions: job.Options,
				RetrievalToken:  job.RetrievalToken,
				LogSink:         logSink(job),
			})
			if err != nil {
				return workers, fmt.Errorf("starting the SDK worker for environment %q: %w", s.EnvironmentID, err)
			}
			workers[s.EnvironmentID] = w
			log.Info("SDK worker started", "env", s.EnvironmentID, "worker", w.ID())
		}
		for _, d := range []*fnpb.ProcessBundleDescriptor{s.Descriptor, s.DrainDescriptor} {
			if d == nil {
				continue
			}
			if err := w.Register(d); err != nil {
				return workers, fmt.Errorf("registering stage %s: %w", s.ID, err)
			}
		}
	}
	return workers, nil
}

// all is every worker of both maps, keyed by environment (natives with a suffix).
func all(workers, natives map[string]*fnharness.Worker) map[string]*fnharness.Worker {
	out := maps.Clone(workers)
	for env, w := range natives {
		out[env+" (native harness)"] = w
	}
	return out
}

func stopWorkers(workers map[string]*fnharness.Worker, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for env, w := range workers {
		if err := w.Stop(ctx); err != nil {
			log.Warn("stopping SDK worker", "env", env, "worker", w.ID(), "err", err)
		}
	}
}

// jobMessageEcho matches a job message as the Go SDK's job monitor logs it. In LOOPBACK
// mode the monitor runs in the process whose logs come back over the logging stream, so
// forwarding it as a message again would echo every warning forever.
var jobMessageEcho = regexp.MustCompile(`^\(time=[^)]*\)\(id=[^)]*\)`)

// logSink forwards SDK warnings and errors to the job's messages.
func logSink(job Job) func(*fnpb.LogEntry) {
	if job.Message == nil {
		return nil
	}
	return func(le *fnpb.LogEntry) {
		if le.GetSeverity() < fnpb.LogEntry_Severity_WARN {
			return
		}
		level := slog.LevelWarn
		if le.GetSeverity() >= fnpb.LogEntry_Severity_ERROR {
			level = slog.LevelError
		}
		text := le.GetMessage()
		if jobMessageEcho.MatchString(text) {
			return
		}
		if tr := le.GetTrace(); tr != "" {
			text += "\n" + tr
		}
		job.Message(level, "SDK: "+text)
	}
}
