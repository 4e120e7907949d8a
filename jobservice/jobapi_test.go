package jobservice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestPrepareRefusals(t *testing.T) {
	exec := &fakeExecutor{validate: func(p *pipepb.Pipeline, _ *structpb.Struct) error {
		if _, ok := p.GetComponents().GetTransforms()["bogus"]; ok {
			return errors.New(`transform "bogus": unknown URN "beam:transform:bogus:v1"`)
		}
		return nil
	}}
	e := startEnv(t, exec)
	ctx := testCtx(t)
	p := pipelineWith()
	p.Components.Transforms = map[string]*pipepb.PTransform{"bogus": {UniqueName: "bogus", Spec: &pipepb.FunctionSpec{Urn: "beam:transform:bogus:v1"}}}
	_, err := e.client.Prepare(ctx, &jobpb.PrepareJobRequest{Pipeline: p, JobName: "x"})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `transform "bogus": unknown URN`) {
		t.Errorf("Prepare of an invalid pipeline: %v, want InvalidArgument with the executor's reason", err)
	}
	for name, req := range map[string]*jobpb.PrepareJobRequest{
		"no pipeline":   {JobName: "x"},
		"no components": {JobName: "x", Pipeline: &pipepb.Pipeline{}},
	} {
		if _, err := e.client.Prepare(ctx, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	jobs, _ := e.client.GetJobs(ctx, &jobpb.GetJobsRequest{})
	if len(jobs.GetJobInfo()) != 0 {
		t.Errorf("refused jobs were stored: %v", jobs)
	}
}

func TestPrepareIdempotentAndRunOnce(t *testing.T) {
	e := startEnv(t, &fakeExecutor{})
	ctx := testCtx(t)
	a := e.prepare(t, "same", pipelineWith())
	b := e.prepare(t, "same", pipelineWith())
	if a.GetPreparationId() != b.GetPreparationId() {
		t.Errorf("retried Prepare gave %s then %s; want the same job", a.GetPreparationId(), b.GetPreparationId())
	}
	other := pipelineWith()
	other.Requirements = []string{"beam:requirement:pardo:stateful:v1"}
	if c := e.prepare(t, "same", other); c.GetPreparationId() == a.GetPreparationId() {
		t.Errorf("a different pipeline under the same name reused job %s", c.GetPreparationId())
	}
	if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: a.GetPreparationId()}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, a.GetPreparationId(), jobpb.JobState_DONE)
	if d := e.prepare(t, "same", pipelineWith()); d.GetPreparationId() == a.GetPreparationId() {
		t.Errorf("Prepare after Run reused the finished job %s", a.GetPreparationId())
	}
	if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: a.GetPreparationId()}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("second Run: %v, want FailedPrecondition", err)
	}
	if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("Run of unknown preparation: %v, want NotFound", err)
	}
}

func TestGetJobMetrics(t *testing.T) {
	counter := &pipepb.MonitoringInfo{
		Urn:     "beam:metric:user:sum_int64:v1",
		Type:    "beam:metrics:sum_int64:v1",
		Payload: []byte{42},
		Labels:  map[string]string{"PTRANSFORM": "count", "NAMESPACE": "ns", "NAME": "n"},
	}
	withMetrics := &fakeExecutor{execute: func(ctx context.Context, r *Run) error {
		r.SetMetrics(func() (a, c []*pipepb.MonitoringInfo) {
			return []*pipepb.MonitoringInfo{counter}, nil
		})
		return blockUntilCancelled(ctx, r)
	}}
	e := startEnv(t, withMetrics)
	ctx := testCtx(t)
	id := e.prepare(t, "metrics", pipelineWith()).GetPreparationId()
	if m, err := e.client.GetJobMetrics(ctx, &jobpb.GetJobMetricsRequest{JobId: id}); err != nil || len(m.GetMetrics().GetAttempted()) != 0 {
		t.Errorf("metrics before Run = %v, %v; want empty", m, err)
	}
	if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: id}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, id, jobpb.JobState_RUNNING)
	m, err := e.client.GetJobMetrics(ctx, &jobpb.GetJobMetricsRequest{JobId: id})
	if err != nil || len(m.GetMetrics().GetAttempted()) != 1 || !proto.Equal(m.GetMetrics().GetAttempted()[0], counter) {
		t.Errorf("GetJobMetrics = %v, %v; want the executor's counter", m, err)
	}
	if _, err := e.client.GetJobMetrics(ctx, &jobpb.GetJobMetricsRequest{JobId: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("GetJobMetrics of unknown job: %v, want NotFound", err)
	}
}

func TestQueriesAndOptions(t *testing.T) {
	e := startEnv(t, &fakeExecutor{})
	ctx := testCtx(t)
	opts, err := e.client.DescribePipelineOptions(ctx, &jobpb.DescribePipelineOptionsRequest{})
	if err != nil || len(opts.GetOptions()) == 0 || opts.GetOptions()[0].GetName() != "parallelism" {
		t.Errorf("DescribePipelineOptions = %v, %v; want Sluice's options", opts, err)
	}
	id := e.prepare(t, "q", pipelineWith()).GetPreparationId()
	if st, err := e.client.GetState(ctx, &jobpb.GetJobStateRequest{JobId: id}); err != nil || st.GetState() != jobpb.JobState_STOPPED {
		t.Errorf("GetState of a prepared job = %v, %v; want STOPPED", st, err)
	}
	if p, err := e.client.GetPipeline(ctx, &jobpb.GetJobPipelineRequest{JobId: id}); err != nil || !proto.Equal(p.GetPipeline(), pipelineWith()) {
		t.Errorf("GetPipeline = %v, %v", p, err)
	}
	for name, call := range map[string]func() error{
		"GetState": func() error { _, err := e.client.GetState(ctx, &jobpb.GetJobStateRequest{JobId: "nope"}); return err },
		"GetPipeline": func() error {
			_, err := e.client.GetPipeline(ctx, &jobpb.GetJobPipelineRequest{JobId: "nope"})
			return err
		},
		"GetStateStream": func() error {
			s, err := e.client.GetStateStream(ctx, &jobpb.GetJobStateRequest{JobId: "nope"})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		},
		"GetMessageStream": func() error {
			s, err := e.client.GetMessageStream(ctx, &jobpb.JobMessagesRequest{JobId: "nope"})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		},
	} {
		if err := call(); status.Code(err) != codes.NotFound {
			t.Errorf("%s of unknown job: %v, want NotFound", name, err)
		}
	}
}

func TestMessageHistoryCap(t *testing.T) {
	e := startEnv(t, &fakeExecutor{execute: func(ctx context.Context, r *Run) error {
		r.SetRunning()
		for i := range 10 {
			r.Message(jobpb.JobMessage_JOB_MESSAGE_DETAILED, fmt.Sprint("m", i))
		}
		return errors.New("bad")
	}}, func(c *Config) { c.MaxMessages = 3 })
	ctx := testCtx(t)
	id := e.prepare(t, "cap", pipelineWith()).GetPreparationId()
	if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: id}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, id, jobpb.JobState_FAILED)
	s, err := e.client.GetMessageStream(ctx, &jobpb.JobMessagesRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	want := "state STOPPED|state STARTING|state RUNNING|JOB_MESSAGE_DETAILED m8|JOB_MESSAGE_DETAILED m9|JOB_MESSAGE_ERROR bad|state FAILED"
	if got := strings.Join(readAll(t, s), "|"); got != want {
		t.Errorf("capped history:\n got %s\nwant %s", got, want)
	}
}

func TestHistorySince(t *testing.T) {
	h := newHistory(2)
	now := time.Unix(0, 0)
	h.addState(jobpb.JobState_STOPPED, now) // 1
	h.addMessage(jobpb.JobMessage_JOB_MESSAGE_BASIC, "a", now)
	h.addState(jobpb.JobState_RUNNING, now) // 3
	h.addMessage(jobpb.JobMessage_JOB_MESSAGE_BASIC, "b", now)
	h.addMessage(jobpb.JobMessage_JOB_MESSAGE_BASIC, "c", now) // 5
	var got []string
	for _, e := range h.since(1, false) {
		got = append(got, describe(e.resp))
	}
	if want := "state RUNNING|JOB_MESSAGE_BASIC b|JOB_MESSAGE_BASIC c"; strings.Join(got, "|") != want {
		t.Errorf("since(1) = %q, want %s", got, want)
	}
	if n := len(h.since(0, true)); n != 2 {
		t.Errorf("since(0, statesOnly) has %d events, want 2", n)
	}
}

func TestSanitizeName(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "job",
		"word count!":            "word-count",
		"ok_name.v2":             "ok_name.v2",
		"../../etc":              "etc",
		strings.Repeat("x", 100): strings.Repeat("x", 64),
	} {
		if got := sanitizeName(in); got != want {
			t.Errorf("sanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}
