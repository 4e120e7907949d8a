package jobservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal/runnerlib"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

// describe renders a message stream event compactly for comparisons.
func describe(r *jobpb.JobMessagesResponse) string {
	if s := r.GetStateResponse(); s != nil {
		return "state " + s.GetState().String()
	}
	m := r.GetMessageResponse()
	return fmt.Sprintf("%s %s", m.GetImportance(), m.GetMessageText())
}

func readAll(t *testing.T, s jobpb.JobService_GetMessageStreamClient) []string {
	t.Helper()
	var out []string
	for {
		r, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("message stream after %v: %v", out, err)
		}
		out = append(out, describe(r))
	}
}

func TestMessageStreamOrderOnFailure(t *testing.T) {
	release := make(chan struct{})
	exec := &fakeExecutor{execute: func(ctx context.Context, r *Run) error {
		<-release
		r.SetRunning()
		r.Message(jobpb.JobMessage_JOB_MESSAGE_BASIC, "hello")
		r.Message(jobpb.JobMessage_JOB_MESSAGE_WARNING, "careful")
		return errors.New(`transform "Count": boom`)
	}}
	e := startEnv(t, exec)
	ctx := testCtx(t)
	prep := e.prepare(t, "fails", pipelineWith())
	id := prep.GetPreparationId()

	live, err := e.client.GetMessageStream(ctx, &jobpb.JobMessagesRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	first, err := live.Recv() // subscribed before the job runs
	if err != nil || describe(first) != "state STOPPED" {
		t.Fatalf("first event %v, %v; want state STOPPED", first, err)
	}
	if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: id}); err != nil {
		t.Fatal(err)
	}
	close(release)
	want := []string{
		"state STARTING", "state RUNNING",
		"JOB_MESSAGE_BASIC hello", "JOB_MESSAGE_WARNING careful",
		`JOB_MESSAGE_ERROR transform "Count": boom`, "state FAILED",
	}
	if got := readAll(t, live); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("live stream:\n got %q\nwant %q", got, want)
	}
	replay, err := e.client.GetMessageStream(ctx, &jobpb.JobMessagesRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, replay); strings.Join(got, "|") != strings.Join(append([]string{"state STOPPED"}, want...), "|") {
		t.Errorf("replay:\n got %q\nwant STOPPED then %q", got, want)
	}
	err = runnerlib.WaitForCompletion(ctx, e.client, id)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("WaitForCompletion = %v, want the job's error", err)
	}
	st, err := e.client.GetState(ctx, &jobpb.GetJobStateRequest{JobId: id})
	if err != nil || st.GetState() != jobpb.JobState_FAILED {
		t.Errorf("GetState = %v, %v; want FAILED", st, err)
	}
}

func blockUntilCancelled(ctx context.Context, r *Run) error {
	r.SetRunning()
	<-ctx.Done()
	return ctx.Err()
}

func TestCancel(t *testing.T) {
	e := startEnv(t, &fakeExecutor{execute: blockUntilCancelled})
	ctx := testCtx(t)
	id := e.prepare(t, "cancel-me", pipelineWith()).GetPreparationId()
	if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: id}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, id, jobpb.JobState_RUNNING)
	ss, err := e.client.GetStateStream(ctx, &jobpb.GetJobStateRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := ss.Recv(); err != nil || ev.GetState() != jobpb.JobState_RUNNING {
		t.Fatalf("state stream starts with %v, %v; want RUNNING", ev, err)
	}
	resp, err := e.client.Cancel(ctx, &jobpb.CancelJobRequest{JobId: id})
	if err != nil || resp.GetState() != jobpb.JobState_CANCELLING {
		t.Fatalf("Cancel = %v, %v; want CANCELLING", resp, err)
	}
	var got []jobpb.JobState_Enum
	for {
		ev, err := ss.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.GetState())
	}
	if fmt.Sprint(got) != "[CANCELLING CANCELLED]" {
		t.Errorf("state stream after cancel: %v, want [CANCELLING CANCELLED]", got)
	}
	if err := runnerlib.WaitForCompletion(ctx, e.client, id); err != nil {
		t.Errorf("WaitForCompletion after cancel: %v", err)
	}
	resp, err = e.client.Cancel(ctx, &jobpb.CancelJobRequest{JobId: id})
	if err != nil || resp.GetState() != jobpb.JobState_CANCELLED {
		t.Errorf("second Cancel = %v, %v; want CANCELLED", resp, err)
	}
	if _, err := e.client.Cancel(ctx, &jobpb.CancelJobRequest{JobId: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("Cancel of unknown job: %v, want NotFound", err)
	}
	// A prepared job that never ran cancels at once and can no longer run.
	id2 := e.prepare(t, "never-run", pipelineWith()).GetPreparationId()
	if resp, err := e.client.Cancel(ctx, &jobpb.CancelJobRequest{JobId: id2}); err != nil || resp.GetState() != jobpb.JobState_CANCELLED {
		t.Errorf("Cancel of a prepared job = %v, %v; want CANCELLED", resp, err)
	}
	if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: id2}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("Run of a cancelled job: %v, want FailedPrecondition", err)
	}
}

func TestDrain(t *testing.T) {
	exec := &fakeExecutor{execute: func(ctx context.Context, r *Run) error {
		drained := make(chan struct{})
		var once sync.Once
		r.OnDrain(func() { once.Do(func() { close(drained) }) })
		r.SetRunning()
		select {
		case <-drained:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	e := startEnv(t, exec)
	ctx := testCtx(t)
	id := e.prepare(t, "drain-me", pipelineWith()).GetPreparationId()
	if _, err := e.client.Drain(ctx, &jobpb.DrainJobRequest{JobId: id}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("Drain of a prepared job: %v, want FailedPrecondition", err)
	}
	if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: id}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, id, jobpb.JobState_RUNNING)
	resp, err := e.client.Drain(ctx, &jobpb.DrainJobRequest{JobId: id})
	if err != nil || resp.GetState() != jobpb.JobState_DRAINING {
		t.Fatalf("Drain = %v, %v; want DRAINING", resp, err)
	}
	if err := runnerlib.WaitForCompletion(ctx, e.client, id); err != nil {
		t.Errorf("WaitForCompletion after drain: %v", err)
	}
	if st, _ := e.client.GetState(ctx, &jobpb.GetJobStateRequest{JobId: id}); st.GetState() != jobpb.JobState_DRAINED {
		t.Errorf("state after drain %v, want DRAINED", st.GetState())
	}

	// Without a drain hook the job refuses to drain.
	e2 := startEnv(t, &fakeExecutor{execute: blockUntilCancelled})
	id2 := e2.prepare(t, "no-drain", pipelineWith()).GetPreparationId()
	if _, err := e2.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: id2}); err != nil {
		t.Fatal(err)
	}
	e2.waitState(t, id2, jobpb.JobState_RUNNING)
	if _, err := e2.client.Drain(ctx, &jobpb.DrainJobRequest{JobId: id2}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("Drain without a hook: %v, want FailedPrecondition", err)
	}
}

// TestConcurrentJobs runs four jobs at once, each staging its own worker
// plus one shared file; all four must be running together.
func TestConcurrentJobs(t *testing.T) {
	const n = 4
	allRunning := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	go func() { started.Wait(); close(allRunning) }()
	exec := &fakeExecutor{execute: func(ctx context.Context, r *Run) error {
		r.SetRunning()
		started.Done()
		select {
		case <-allRunning:
		case <-ctx.Done():
			return ctx.Err()
		}
		r.Message(jobpb.JobMessage_JOB_MESSAGE_BASIC, "finished "+r.JobName)
		return nil
	}}
	e := startEnv(t, exec)
	ctx := testCtx(t)
	sharedData := content(99, 5000)
	shared, sharedSum := writeTemp(t, "shared", sharedData)

	ids := make([]string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := content(byte(i), 3000+i)
			path, sum := writeTemp(t, fmt.Sprintf("worker%d", i), data)
			prep, err := e.client.Prepare(ctx, &jobpb.PrepareJobRequest{
				JobName:         fmt.Sprintf("job%d", i),
				Pipeline:        pipelineWith(fileDep(t, path, sum, roleGoWorker), fileDep(t, shared, sharedSum, "")),
				PipelineOptions: &structpb.Struct{},
			})
			if err != nil {
				errs <- err
				return
			}
			tok, err := runnerlib.Stage(ctx, prep.GetPreparationId(), prep.GetArtifactStagingEndpoint().GetUrl(), "", prep.GetStagingSessionToken())
			if err != nil {
				errs <- err
				return
			}
			id, err := runnerlib.Submit(ctx, e.client, prep.GetPreparationId(), tok)
			if err != nil {
				errs <- err
				return
			}
			ids[i] = id
			errs <- runnerlib.WaitForCompletion(ctx, e.client, id)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var sharedPath string
	for i, id := range ids {
		r := e.exec.run(t, id)
		if r.JobName != fmt.Sprintf("job%d", i) {
			t.Errorf("job %s ran as %q", id, r.JobName)
		}
		deps := r.Pipeline.GetComponents().GetEnvironments()["go"].GetDependencies()
		checkFile(t, fileArtifact(t, deps[0]).GetPath(), content(byte(i), 3000+i))
		sp := fileArtifact(t, deps[1]).GetPath()
		checkFile(t, sp, sharedData)
		if sharedPath != "" && sp != sharedPath {
			t.Errorf("shared content stored twice: %s and %s", sp, sharedPath)
		}
		sharedPath = sp
	}
	jobs, err := e.client.GetJobs(ctx, &jobpb.GetJobsRequest{})
	if err != nil || len(jobs.GetJobInfo()) != n {
		t.Fatalf("GetJobs = %v, %v; want %d jobs", jobs, err, n)
	}
	for _, j := range jobs.GetJobInfo() {
		if j.GetState() != jobpb.JobState_DONE {
			t.Errorf("job %s is %s, want DONE", j.GetJobId(), j.GetState())
		}
	}
}

// TestShutdownCancelsJobs checks that Shutdown cancels running jobs, ends
// streams and leaves no goroutines behind.
func TestShutdownCancelsJobs(t *testing.T) {
	before := runtime.NumGoroutine()
	e := startEnv(t, &fakeExecutor{execute: blockUntilCancelled})
	ctx := testCtx(t)
	var ids []string
	for i := range 2 {
		id := e.prepare(t, fmt.Sprintf("long%d", i), pipelineWith()).GetPreparationId()
		if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: id}); err != nil {
			t.Fatal(err)
		}
		e.waitState(t, id, jobpb.JobState_RUNNING)
		ids = append(ids, id)
	}
	idle := e.prepare(t, "idle", pipelineWith()).GetPreparationId()
	running, err := e.client.GetMessageStream(ctx, &jobpb.JobMessagesRequest{JobId: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	prepared, err := e.client.GetMessageStream(ctx, &jobpb.JobMessagesRequest{JobId: idle})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prepared.Recv(); err != nil {
		t.Fatal(err)
	}

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	got := readAll(t, running)
	if len(got) < 2 || got[len(got)-1] != "state CANCELLED" || got[len(got)-2] != "JOB_MESSAGE_BASIC job cancelled: job server is shutting down" {
		t.Errorf("stream of a running job at shutdown: %q", got)
	}
	if _, err := prepared.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("stream of a prepared job at shutdown: %v, want Unavailable", err)
	}
	for _, id := range ids {
		if st, err := e.client.GetState(ctx, &jobpb.GetJobStateRequest{JobId: id}); err != nil || st.GetState() != jobpb.JobState_CANCELLED {
			t.Errorf("job %s after shutdown: %v, %v; want CANCELLED", id, st, err)
		}
	}
	if _, err := e.client.Prepare(ctx, &jobpb.PrepareJobRequest{Pipeline: pipelineWith()}); status.Code(err) != codes.Unavailable {
		t.Errorf("Prepare after shutdown: %v, want Unavailable", err)
	}
	e.stop(t)

	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before, %d after shutdown:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestExecutorPanicFailsJob(t *testing.T) {
	e := startEnv(t, &fakeExecutor{execute: func(context.Context, *Run) error { panic("kaboom") }})
	ctx := testCtx(t)
	id := e.prepare(t, "panics", pipelineWith()).GetPreparationId()
	if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: id}); err != nil {
		t.Fatal(err)
	}
	if err := runnerlib.WaitForCompletion(ctx, e.client, id); err == nil || !strings.Contains(err.Error(), "kaboom") {
		t.Errorf("WaitForCompletion = %v, want the panic reported as the failure", err)
	}
}
