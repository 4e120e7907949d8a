package fnharness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// ErrWorkerStopped is the cause recorded for a worker ended by [Worker.Stop].
var ErrWorkerStopped = errors.New("worker stopped by the runner")

// recentLogLines is how many log lines each worker keeps for error reports.
const recentLogLines = 50

// WorkerConfig describes the SDK worker to start.
type WorkerConfig struct {
	JobID string
	EnvID string
	// Env is the pipeline environment: beam:env:external:v1 (LOOPBACK and
	// EXTERNAL), beam:env:process:v1 or beam:env:docker:v1 (refused).
	Env *pipepb.Environment
	// PipelineOptions are handed to the worker in ProvisionInfo (and to PROCESS
	// Go workers through PIPELINE_OPTIONS_FILE).
	PipelineOptions *structpb.Struct
	// RetrievalToken is the artifact retrieval token in ProvisionInfo.
	RetrievalToken string
	// LogSink, if set, receives every log entry the SDK sends. It is called on the
	// logging stream's goroutine and must not block for long.
	LogSink func(*fnpb.LogEntry)
}

// Worker is one SDK harness connected to the server.
type Worker struct {
	id    string
	jobID string
	envID string
	cfg   WorkerConfig
	srv   *Server
	log   *slog.Logger

	// ctx lives until Stop; stream handlers return when it is canceled.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // goroutines owned by the worker (see goOwned)

	connected chan struct{} // closed when the control stream attaches
	done      chan struct{} // closed when the worker ended

	stopOnce sync.Once
	stopErr  error

	logs logRing

	// native says this is a native harness (see AttachNative); fingerprints are the
	// chains it announced when its control stream connected.
	native       bool
	fingerprints []string
	portable     map[string]string
	capabilities []string

	mu        sync.Mutex
	stopping  bool  // no new owned goroutines
	cause     error // why the worker ended; set once together with closing done
	env       environment
	ctrl      *sender[*fnpb.InstructionRequest]
	data      *sender[*fnpb.Elements]
	dataReady chan struct{} // closed while a data stream is attached
	pending   map[string]func(*fnpb.InstructionResponse, error)
	bundles   map[string]*Bundle
	descs     map[string]*fnpb.ProcessBundleDescriptor
}

// StartWorker starts an SDK worker for cfg.Env and returns once its control
// stream is connected. On failure nothing is left running.
func (s *Server) StartWorker(ctx context.Context, cfg WorkerConfig) (*Worker, error) {
	if err := s.waitReady(ctx); err != nil {
		return nil, err
	}
	if cfg.Env == nil {
		return nil, fmt.Errorf("fnharness: starting a worker for job %q: no environment given", cfg.JobID)
	}
	id := "sluice-" + sanitizeID(cfg.JobID) + "-w" + strconv.FormatUint(s.nextWorker.Add(1), 10)
	w := s.newWorker(id, cfg)
	if err := s.addWorker(w); err != nil {
		w.cancel()
		return nil, err
	}
	w.log.Info("starting SDK worker", "env_urn", cfg.Env.GetUrn())

	err := w.startEnvironment(ctx)
	if err == nil {
		err = w.awaitControl(ctx)
	}
	if err != nil {
		stopCtx, stopCancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer stopCancel()
		if serr := w.Stop(stopCtx); serr != nil {
			w.log.Warn("cleaning up a worker that failed to start", "err", serr)
		}
		return nil, fmt.Errorf("fnharness: starting SDK worker %s for job %q (environment %q): %w%s",
			id, cfg.JobID, cfg.EnvID, err, formatLogs(w.RecentLogs()))
	}
	w.log.Info("SDK worker connected")
	return w, nil
}

// newWorker makes the Worker for id; it is not yet known to the server.
func (s *Server) newWorker(id string, cfg WorkerConfig) *Worker {
	wctx, cancel := context.WithCancel(context.Background())
	return &Worker{
		id:        id,
		jobID:     cfg.JobID,
		envID:     cfg.EnvID,
		cfg:       cfg,
		srv:       s,
		log:       s.log.With("job", cfg.JobID, "worker", id, "env", cfg.EnvID),
		ctx:       wctx,
		cancel:    cancel,
		connected: make(chan struct{}),
		done:      make(chan struct{}),
		logs:      logRing{max: recentLogLines},
		dataReady: make(chan struct{}),
		pending:   make(map[string]func(*fnpb.InstructionResponse, error)),
		bundles:   make(map[string]*Bundle),
		descs:     make(map[string]*fnpb.ProcessBundleDescriptor),
	}
}

func (w *Worker) awaitControl(ctx context.Context) error {
	timer := time.NewTimer(w.srv.cfg.WorkerStartTimeout)
	defer timer.Stop()
	select {
	case <-w.connected:
		return nil
	case <-w.done:
		return w.causeErr()
	case <-ctx.Done():
		return fmt.Errorf("waiting for the control stream: %w", ctx.Err())
	case <-timer.C:
		return fmt.Errorf("the worker did not connect its control stream to %s within %v", w.srv.Endpoint(), w.srv.cfg.WorkerStartTimeout)
	}
}

func sanitizeID(s string) string {
	if s == "" {
		return "job"
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 48 {
			break
		}
	}
	return b.String()
}

// ID is the worker id the SDK sends as worker_id metadata.
func (w *Worker) ID() string { return w.id }

// JobID is the job this worker runs for.
func (w *Worker) JobID() string { return w.jobID }

// Done is closed when the worker's control stream ended (crash, disconnect) or Stop.
func (w *Worker) Done() <-chan struct{} { return w.done }

// Err says why the worker ended (nil while it runs); it includes the worker's
// last log lines as known when Err is called.
func (w *Worker) Err() error {
	cause := w.causeErr()
	if cause == nil {
		return nil
	}
	return &WorkerError{WorkerID: w.id, JobID: w.jobID, Cause: cause, Logs: w.RecentLogs()}
}

func (w *Worker) causeErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cause
}

// WorkerError reports why a worker ended.
type WorkerError struct {
	WorkerID, JobID string
	Cause           error
	Logs            []string // the worker's last log lines
}

func (e *WorkerError) Error() string {
	return fmt.Sprintf("SDK worker %s of job %q ended: %v%s", e.WorkerID, e.JobID, e.Cause, formatLogs(e.Logs))
}

func (e *WorkerError) Unwrap() error { return e.Cause }

func formatLogs(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return "\nlast worker log lines:\n  " + strings.Join(lines, "\n  ")
}

// RecentLogs returns the worker's last log lines (SDK log entries and, for
// PROCESS workers, stdout/stderr), oldest first.
func (w *Worker) RecentLogs() []string { return w.logs.snapshot() }

// Stop ends the worker: in-flight bundles fail, an external pool gets
// StopWorker, a process is killed, streams are closed, and every goroutine of
// the worker has returned when Stop returns nil. It is idempotent.
func (w *Worker) Stop(ctx context.Context) error {
	w.stopOnce.Do(func() { w.stopErr = w.doStop(ctx) })
	return w.stopErr
}

func (w *Worker) doStop(ctx context.Context) error {
	w.fail(ErrWorkerStopped)
	var errs []error
	w.mu.Lock()
	env := w.env
	w.mu.Unlock()
	if env != nil {
		if err := env.stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	w.mu.Lock()
	w.stopping = true
	w.mu.Unlock()
	w.cancel()
	waited := make(chan struct{})
	go func() { // ends once the owned goroutines end, which cancel ensures
		w.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("waiting for the worker's goroutines: %w", ctx.Err()))
	}
	if env != nil {
		env.cleanup()
	}
	w.srv.removeWorker(w.id)
	w.log.Info("SDK worker stopped")
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("fnharness: stopping worker %s: %w", w.id, err)
	}
	return nil
}

// goOwned runs f on a goroutine that Stop waits for; it returns false (and does
// not run f) once the worker is stopping.
func (w *Worker) goOwned(f func()) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopping {
		return false
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		f()
	}()
	return true
}

// fail ends the worker with cause (first cause wins): Done closes, pending
// instructions and in-flight bundles fail.
func (w *Worker) fail(cause error) {
	w.mu.Lock()
	if w.cause != nil {
		w.mu.Unlock()
		return
	}
	w.cause = cause
	close(w.done)
	pending := w.pending
	bundles := w.bundles
	w.pending = make(map[string]func(*fnpb.InstructionResponse, error))
	w.bundles = make(map[string]*Bundle)
	w.mu.Unlock()

	switch {
	case errors.Is(cause, ErrWorkerStopped):
		w.log.Info("SDK worker ending", "cause", cause)
	case len(bundles) == 0 && len(pending) == 0:
		// A LOOPBACK launcher closes its streams as soon as it sees its job end,
		// often before the runner stops the worker: nothing was in flight, nothing is lost.
		w.log.Info("SDK worker disconnected while idle", "cause", cause)
	default:
		w.log.Error("SDK worker ended", "cause", cause, "bundles", len(bundles), "instructions", len(pending))
	}
	lost := &workerLost{w: w}
	for _, b := range bundles {
		b.finish(lost)
	}
	for _, cb := range pending {
		cb(nil, lost)
	}
}

// workerLost formats the worker's error (with its log lines) when it is read, so
// that log lines arriving just after the failure are included.
type workerLost struct{ w *Worker }

func (e *workerLost) Error() string { return e.w.Err().Error() }
func (e *workerLost) Unwrap() error { return e.w.Err() }

// Register stores desc for the SDK's GetProcessBundleDescriptor call, after
// pointing every RemoteGrpcPort, the state API and the timer API at this server.
// desc is cloned; the stored copy is returned. Ids must be unique per worker.
func (w *Worker) Register(desc *fnpb.ProcessBundleDescriptor) error {
	_, err := w.RegisterDescriptor(desc)
	return err
}

// RegisterDescriptor is Register returning the stored descriptor, endpoints filled.
func (w *Worker) RegisterDescriptor(desc *fnpb.ProcessBundleDescriptor) (*fnpb.ProcessBundleDescriptor, error) {
	if desc.GetId() == "" {
		return nil, fmt.Errorf("fnharness: worker %s: registering a process bundle descriptor without an id", w.id)
	}
	filled, err := fillEndpoints(desc, w.srv.Endpoint())
	if err != nil {
		return nil, fmt.Errorf("fnharness: worker %s: descriptor %q: %w", w.id, desc.GetId(), err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, dup := w.descs[desc.GetId()]; dup {
		return nil, fmt.Errorf("fnharness: worker %s: process bundle descriptor %q is already registered; descriptor ids must be unique per worker", w.id, desc.GetId())
	}
	w.descs[desc.GetId()] = filled
	return filled, nil
}

// Finalize sends a FinalizeBundleRequest for a bundle whose response asked for
// finalization (after the runner committed its results).
func (w *Worker) Finalize(ctx context.Context, instructionID string) error {
	_, err := w.call(ctx, &fnpb.InstructionRequest{Request: &fnpb.InstructionRequest_FinalizeBundle{
		FinalizeBundle: &fnpb.FinalizeBundleRequest{InstructionId: instructionID},
	}})
	if err != nil {
		return fmt.Errorf("fnharness: finalizing bundle %s: %w", instructionID, err)
	}
	return nil
}

// call sends req with a fresh instruction id and waits for its response. A
// response carrying an SDK error becomes an error.
func (w *Worker) call(ctx context.Context, req *fnpb.InstructionRequest) (*fnpb.InstructionResponse, error) {
	id := w.srv.newInstructionID()
	req.InstructionId = id
	type result struct {
		resp *fnpb.InstructionResponse
		err  error
	}
	ch := make(chan result, 1)
	w.mu.Lock()
	if w.cause != nil {
		w.mu.Unlock()
		return nil, w.Err()
	}
	ctrl := w.ctrl
	if ctrl == nil {
		w.mu.Unlock()
		return nil, fmt.Errorf("worker %s has no control stream", w.id)
	}
	w.pending[id] = func(r *fnpb.InstructionResponse, err error) { ch <- result{r, err} }
	w.mu.Unlock()

	if err := ctrl.Send(req); err != nil {
		w.dropPending(id)
		return nil, fmt.Errorf("sending instruction %s to worker %s: %w", id, w.id, err)
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, r.err
		}
		if msg := r.resp.GetError(); msg != "" {
			return r.resp, fmt.Errorf("SDK worker %s failed instruction %s: %s", w.id, id, msg)
		}
		return r.resp, nil
	case <-ctx.Done():
		w.dropPending(id)
		return nil, ctx.Err()
	}
}

func (w *Worker) dropPending(id string) {
	w.mu.Lock()
	delete(w.pending, id)
	w.mu.Unlock()
}

// logRing keeps the last max lines.
type logRing struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (r *logRing) add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lines) >= r.max {
		copy(r.lines, r.lines[1:])
		r.lines = r.lines[:len(r.lines)-1]
	}
	r.lines = append(r.lines, line)
}

func (r *logRing) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}
