package jobservice

import (
	"context"
	"log/slog"
	"sync"
	"time"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// stagingPhase says where a job's artifact staging is.
type stagingPhase int

const (
	stagingNone stagingPhase = iota
	stagingActive
	stagingDone
	stagingFailed
)

// MetricsSource returns a job's current metrics.
type MetricsSource func() (attempted, committed []*pipepb.MonitoringInfo)

// job is the live state of one job. Its mutex guards everything below it;
// lock order is Server.mu before job.mu.
type job struct {
	id    string
	log   *slog.Logger
	store Store

	mu         sync.Mutex
	rec        *JobRecord       // rec.State is the current state
	submitted  *pipepb.Pipeline // as received by Prepare, for idempotent retries
	hist       *history
	changed    chan struct{} // closed and replaced on every history change
	staging    stagingPhase
	stagingErr error
	cancel     context.CancelFunc // set by Run
	cancelWhy  string             // non-empty once a cancel was requested
	draining   bool
	drainFn    func()
	afterEnd   []func()
	metricsFn  MetricsSource
}

func newJob(rec *JobRecord, maxMessages int, store Store, log *slog.Logger) *job {
	j := &job{
		id:      rec.JobID,
		log:     log.With(slog.String("job_id", rec.JobID)),
		store:   store,
		rec:     rec,
		hist:    newHistory(maxMessages),
		changed: make(chan struct{}),
	}
	j.hist.addState(rec.State, rec.StateAt)
	return j
}

func (j *job) broadcastLocked() {
	close(j.changed)
	j.changed = make(chan struct{})
}

// setStateLocked records a state change, persists it and wakes subscribers.
func (j *job) setStateLocked(s jobpb.JobState_Enum) {
	if j.rec.State == s {
		return
	}
	now := time.Now()
	j.log.Info("job state changed", slog.String("from", j.rec.State.String()), slog.String("to", s.String()))
	j.rec.State, j.rec.StateAt = s, now
	j.hist.addState(s, now)
	j.persistLocked()
	j.broadcastLocked()
}

func (j *job) persistLocked() {
	if err := j.store.Put(j.rec); err != nil {
		j.log.Error("persisting job record failed", slog.Any("err", err))
	}
}

func (j *job) messageLocked(imp jobpb.JobMessage_MessageImportance, text string) {
	if isTerminal(j.rec.State) {
		j.log.Debug("message after terminal state dropped", slog.String("text", text))
		return
	}
	j.hist.addMessage(imp, text, time.Now())
	j.broadcastLocked()
}

func (j *job) state() jobpb.JobState_Enum {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.rec.State
}

// finish moves the job to its terminal state once Execute returned err.
// cancelled says whether Execute's context had been cancelled.
func (j *job) finish(err error, cancelled bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if cancelled && j.cancelWhy == "" {
		j.cancelWhy = "job server is shutting down"
	}
	switch {
	case j.cancelWhy != "":
		j.messageLocked(jobpb.JobMessage_JOB_MESSAGE_BASIC, "job cancelled: "+j.cancelWhy)
		j.setStateLocked(jobpb.JobState_CANCELLED)
	case err != nil:
		j.log.Error("job failed", slog.Any("err", err))
		// The Go SDK client waits for an ERROR message after FAILED; sending
		// it first means a client always has it when FAILED arrives.
		j.messageLocked(jobpb.JobMessage_JOB_MESSAGE_ERROR, err.Error())
		j.setStateLocked(jobpb.JobState_FAILED)
	case j.draining:
		j.setStateLocked(jobpb.JobState_DRAINED)
	default:
		j.setStateLocked(jobpb.JobState_DONE)
	}
}

// follow sends the job's events after seq `after` until it has sent a
// terminal state, ctx ends or stop is closed (then it returns errStopping, after
// sending the events that came before: a job cancelled by the shutdown still
// reports how it ended, whichever of its last event and stop it sees first).
func (j *job) follow(ctx context.Context, stop <-chan struct{}, after uint64, statesOnly bool,
	send func(*jobpb.JobMessagesResponse) error) error {
	stopped := false
	for {
		j.mu.Lock()
		evs := j.hist.since(after, statesOnly)
		wake := j.changed
		j.mu.Unlock()
		for _, e := range evs {
			if err := send(e.resp); err != nil {
				return err
			}
			after = e.seq
			if sr := e.resp.GetStateResponse(); sr != nil && isTerminal(sr.GetState()) {
				return nil
			}
		}
		if stopped {
			return errStopping
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			stopped = true
		}
	}
}

// Run is what Execute gets: the job to run and the ways to report on it.
// Its methods are safe for concurrent use. A Run built by hand (as in engine
// tests) has no job behind it and its methods do nothing.
type Run struct {
	JobID   string
	JobName string
	// Pipeline after staging: every environment dependency is a
	// beam:artifact:type:file:v1 with the stored file's absolute path and
	// sha256; roles are kept.
	Pipeline       *pipepb.Pipeline
	Options        *structpb.Struct
	RetrievalToken string

	job *job
}

// Message records a job message for GetMessageStream subscribers. Messages
// sent after the job ended are dropped.
func (r *Run) Message(importance jobpb.JobMessage_MessageImportance, text string) {
	if r == nil || r.job == nil {
		return
	}
	r.job.mu.Lock()
	defer r.job.mu.Unlock()
	r.job.messageLocked(importance, text)
}

// SetRunning says the job is now RUNNING (it is STARTING until then). It
// does nothing unless the job is STARTING.
func (r *Run) SetRunning() {
	if r == nil || r.job == nil {
		return
	}
	r.job.mu.Lock()
	defer r.job.mu.Unlock()
	if r.job.rec.State == jobpb.JobState_STARTING {
		r.job.setStateLocked(jobpb.JobState_RUNNING)
	}
}

// SetMetrics installs the source GetJobMetrics reads. fn must not block for
// long and must be safe to call from any goroutine.
func (r *Run) SetMetrics(fn MetricsSource) {
	if r == nil || r.job == nil {
		return
	}
	r.job.mu.Lock()
	defer r.job.mu.Unlock()
	r.job.metricsFn = fn
}

// OnDrain registers what Drain calls (once, from the RPC goroutine; it must
// not block). A job without a drain hook refuses Drain. When Execute returns
// nil after a drain, the job ends DRAINED.
func (r *Run) OnDrain(fn func()) {
	if r == nil || r.job == nil {
		return
	}
	r.job.mu.Lock()
	defer r.job.mu.Unlock()
	r.job.drainFn = fn
}

// AfterEnd registers fn to run once the job's terminal state has been published, on the
// job's goroutine (Shutdown waits for it). The engine stops a job's SDK workers there: a
// LOOPBACK worker shares the client's process and logger, so stopping it before the client
// has seen the outcome would swallow what the client logs about it.
func (r *Run) AfterEnd(fn func()) {
	if r == nil || r.job == nil {
		return
	}
	r.job.mu.Lock()
	defer r.job.mu.Unlock()
	r.job.afterEnd = append(r.job.afterEnd, fn)
}

func (j *job) runAfterEnd() {
	j.mu.Lock()
	fns := j.afterEnd
	j.afterEnd = nil
	j.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// Logger returns a logger carrying the job id.
func (r *Run) Logger() *slog.Logger {
	if r == nil || r.job == nil {
		return slog.Default()
	}
	return r.job.log
}
