package jobservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// jobAPI implements JobService.
type jobAPI struct {
	jobpb.UnimplementedJobServiceServer
	s *Server
}

// Prepare validates and stores a job. The job id is also its preparation
// id and staging token. A retry with the same job name, pipeline and
// options while the job is still prepared returns the same job.
func (a *jobAPI) Prepare(ctx context.Context, req *jobpb.PrepareJobRequest) (*jobpb.PrepareJobResponse, error) {
	s := a.s
	p := req.GetPipeline()
	if p == nil {
		return nil, status.Error(codes.InvalidArgument, "prepare request carries no pipeline")
	}
	if p.GetComponents() == nil {
		return nil, status.Error(codes.InvalidArgument, "pipeline has no components")
	}
	if s.isClosed() {
		return nil, status.Error(codes.Unavailable, "job server is shutting down; not accepting jobs")
	}
	name := req.GetJobName()
	opts := req.GetPipelineOptions()
	if opts == nil {
		opts = &structpb.Struct{}
	}

	s.mu.Lock()
	endpoint := s.endpoint
	prev := s.prepared[name]
	s.mu.Unlock()
	if endpoint == "" {
		return nil, status.Error(codes.Internal, "job server misconfigured: no artifact staging endpoint set (SetEndpoint)")
	}
	if prev != nil {
		prev.mu.Lock()
		same := prev.rec.State == jobpb.JobState_STOPPED && prev.staging != stagingActive &&
			proto.Equal(prev.submitted, p) && proto.Equal(prev.rec.Options, opts)
		prev.mu.Unlock()
		if same {
			prev.log.Info("prepare retried; returning the prepared job")
			return prepareResponse(prev.id, endpoint), nil
		}
	}

	if err := s.cfg.Executor.Validate(p, opts); err != nil {
		s.log.Info("pipeline rejected", slog.String("job_name", name), slog.Any("err", err))
		return nil, status.Errorf(codes.InvalidArgument, "pipeline rejected: %v", err)
	}

	now := time.Now()
	s.mu.Lock()
	s.seq++
	rec := &JobRecord{
		JobID:    fmt.Sprintf("%s-%d", sanitizeName(name), s.seq),
		JobName:  name,
		Seq:      s.seq,
		Pipeline: proto.Clone(p).(*pipepb.Pipeline),
		Options:  proto.Clone(opts).(*structpb.Struct),
		State:    jobpb.JobState_STOPPED,
		StateAt:  now,
		Created:  now,
	}
	j := newJob(rec, s.cfg.MaxMessages, s.store, s.log)
	j.submitted = proto.Clone(p).(*pipepb.Pipeline)
	if err := s.store.Put(rec); err != nil {
		s.mu.Unlock()
		return nil, status.Errorf(codes.Internal, "storing job %s: %v", rec.JobID, err)
	}
	s.jobs[rec.JobID] = j
	s.prepared[name] = j
	s.mu.Unlock()
	j.log.Info("job prepared", slog.String("job_name", name))
	return prepareResponse(rec.JobID, endpoint), nil
}

func prepareResponse(id, endpoint string) *jobpb.PrepareJobResponse {
	return &jobpb.PrepareJobResponse{
		PreparationId:           id,
		ArtifactStagingEndpoint: &pipepb.ApiServiceDescriptor{Url: endpoint},
		StagingSessionToken:     id,
	}
}

// sanitizeName turns a job name into an id prefix: letters, digits, '.',
// '_' and '-' only, at most 64 characters.
func sanitizeName(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= 64 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if out := strings.Trim(b.String(), "-."); out != "" {
		return out
	}
	return "job"
}

// Run starts a prepared job whose artifacts (if any) are staged.
func (a *jobAPI) Run(ctx context.Context, req *jobpb.RunJobRequest) (*jobpb.RunJobResponse, error) {
	j, err := a.s.lookup(req.GetPreparationId())
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if st := j.rec.State; st != jobpb.JobState_STOPPED {
		return nil, status.Errorf(codes.FailedPrecondition, "job %s cannot be run: it is already %s", j.id, st)
	}
	switch j.staging {
	case stagingActive:
		return nil, status.Errorf(codes.FailedPrecondition, "job %s cannot be run: its artifact staging is still in progress", j.id)
	case stagingFailed:
		return nil, status.Errorf(codes.FailedPrecondition, "job %s cannot be run: artifact staging failed: %v", j.id, j.stagingErr)
	case stagingNone:
		if env := firstWithDependencies(j.rec.Pipeline); env != "" {
			return nil, status.Errorf(codes.FailedPrecondition,
				"job %s cannot be run: environment %q has dependencies but no artifacts were staged (stage them with the staging_session_token from Prepare first)", j.id, env)
		}
	}
	if rt := req.GetRetrievalToken(); rt != "" && rt != j.id {
		j.log.Warn("run request carries an unknown retrieval token; using the job's own", slog.String("retrieval_token", rt))
	}
	run := &Run{
		JobID:          j.id,
		JobName:        j.rec.JobName,
		Pipeline:       proto.Clone(j.rec.Pipeline).(*pipepb.Pipeline),
		Options:        proto.Clone(j.rec.Options).(*structpb.Struct),
		RetrievalToken: j.id,
		job:            j,
	}
	if err := a.s.startLocked(j, run); err != nil {
		return nil, err
	}
	j.setStateLocked(jobpb.JobState_STARTING)
	return &jobpb.RunJobResponse{JobId: j.id}, nil
}

func firstWithDependencies(p *pipepb.Pipeline) string {
	for id, env := range p.GetComponents().GetEnvironments() {
		if len(env.GetDependencies()) > 0 {
			return id
		}
	}
	return ""
}

// GetJobs lists every job in the store.
func (a *jobAPI) GetJobs(ctx context.Context, _ *jobpb.GetJobsRequest) (*jobpb.GetJobsResponse, error) {
	recs, err := a.s.store.List()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "listing jobs: %v", err)
	}
	out := &jobpb.GetJobsResponse{}
	for _, r := range recs {
		out.JobInfo = append(out.JobInfo, &jobpb.JobInfo{
			JobId: r.JobID, JobName: r.JobName, PipelineOptions: r.Options, State: r.State,
		})
	}
	return out, nil
}

// record returns a job's record: the live one, else the stored one.
func (s *Server) record(id string) (*JobRecord, error) {
	if j, err := s.lookup(id); err == nil {
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.rec.clone(), nil
	} else if status.Code(err) != codes.NotFound {
		return nil, err
	}
	rec, err := s.store.Get(id)
	if errors.Is(err, ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "job %q not found", id)
	}
	if err != nil {
		return nil, status.Errorf(codes.Internal, "reading job %q: %v", id, err)
	}
	return rec, nil
}

// GetState returns a job's current state.
func (a *jobAPI) GetState(ctx context.Context, req *jobpb.GetJobStateRequest) (*jobpb.JobStateEvent, error) {
	rec, err := a.s.record(req.GetJobId())
	if err != nil {
		return nil, err
	}
	return &jobpb.JobStateEvent{State: rec.State, Timestamp: timestamppb.New(rec.StateAt)}, nil
}

// GetPipeline returns the job's pipeline (after staging, with rewritten
// dependencies).
func (a *jobAPI) GetPipeline(ctx context.Context, req *jobpb.GetJobPipelineRequest) (*jobpb.GetJobPipelineResponse, error) {
	rec, err := a.s.record(req.GetJobId())
	if err != nil {
		return nil, err
	}
	return &jobpb.GetJobPipelineResponse{Pipeline: rec.Pipeline}, nil
}

// Cancel cancels a job. A prepared job that never ran is CANCELLED at once;
// a running one goes CANCELLING until Execute returns; a finished one
// reports its state.
func (a *jobAPI) Cancel(ctx context.Context, req *jobpb.CancelJobRequest) (*jobpb.CancelJobResponse, error) {
	j, err := a.s.lookup(req.GetJobId())
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	switch st := j.rec.State; {
	case isTerminal(st), st == jobpb.JobState_CANCELLING:
	case st == jobpb.JobState_STOPPED:
		j.cancelWhy = "cancelled before it ran"
		j.setStateLocked(jobpb.JobState_CANCELLED)
	default:
		j.cancelWhy = "cancel requested"
		j.setStateLocked(jobpb.JobState_CANCELLING)
		j.cancel()
	}
	return &jobpb.CancelJobResponse{State: j.rec.State}, nil
}

// Drain asks a running job to finish its in-flight work and stop; it ends
// DRAINED. Jobs whose executor registered no drain hook refuse.
func (a *jobAPI) Drain(ctx context.Context, req *jobpb.DrainJobRequest) (*jobpb.DrainJobResponse, error) {
	j, err := a.s.lookup(req.GetJobId())
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	st := j.rec.State
	switch {
	case isTerminal(st), st == jobpb.JobState_DRAINING:
		j.mu.Unlock()
		return &jobpb.DrainJobResponse{State: st}, nil
	case st == jobpb.JobState_STOPPED || st == jobpb.JobState_CANCELLING:
		j.mu.Unlock()
		return nil, status.Errorf(codes.FailedPrecondition, "job %s cannot be drained: it is %s", j.id, st)
	case j.drainFn == nil:
		j.mu.Unlock()
		return nil, status.Errorf(codes.FailedPrecondition, "job %s cannot be drained: its executor does not support drain (yet); cancel it instead", j.id)
	}
	j.draining = true
	j.setStateLocked(jobpb.JobState_DRAINING)
	fn := j.drainFn
	j.mu.Unlock()
	fn()
	return &jobpb.DrainJobResponse{State: jobpb.JobState_DRAINING}, nil
}

// GetStateStream sends the current state, then every change, and ends
// after a terminal state.
func (a *jobAPI) GetStateStream(req *jobpb.GetJobStateRequest, stream jobpb.JobService_GetStateStreamServer) error {
	j, err := a.s.lookup(req.GetJobId())
	if err != nil {
		return err
	}
	j.mu.Lock()
	cur := j.hist.lastState()
	j.mu.Unlock()
	if err := stream.Send(cur.resp.GetStateResponse()); err != nil {
		return err
	}
	if isTerminal(cur.resp.GetStateResponse().GetState()) {
		return nil
	}
	return j.follow(stream.Context(), a.s.stopping, cur.seq, true, func(r *jobpb.JobMessagesResponse) error {
		return stream.Send(r.GetStateResponse())
	})
}

// GetMessageStream replays the job's retained history (state changes and
// messages), then streams new events, and ends after a terminal state.
func (a *jobAPI) GetMessageStream(req *jobpb.JobMessagesRequest, stream jobpb.JobService_GetMessageStreamServer) error {
	j, err := a.s.lookup(req.GetJobId())
	if err != nil {
		return err
	}
	return j.follow(stream.Context(), a.s.stopping, 0, false, stream.Send)
}

// GetJobMetrics reads the metrics source the executor installed; a job
// without one has empty metrics.
func (a *jobAPI) GetJobMetrics(ctx context.Context, req *jobpb.GetJobMetricsRequest) (*jobpb.GetJobMetricsResponse, error) {
	j, err := a.s.lookup(req.GetJobId())
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	fn := j.metricsFn
	j.mu.Unlock()
	res := &jobpb.MetricResults{}
	if fn != nil {
		res.Attempted, res.Committed = fn()
	}
	return &jobpb.GetJobMetricsResponse{Metrics: res}, nil
}

// DescribePipelineOptions lists the options Sluice reads.
func (a *jobAPI) DescribePipelineOptions(context.Context, *jobpb.DescribePipelineOptionsRequest) (*jobpb.DescribePipelineOptionsResponse, error) {
	return &jobpb.DescribePipelineOptionsResponse{Options: a.s.cfg.PipelineOptions}, nil
}
