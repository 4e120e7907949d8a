//go:build !race

// The Go SDK harness (harness.go, MainWithOptions) closes its response channel while
// in-flight instruction goroutines may still send on it when its control stream ends
// mid-bundle, which the race detector reports. Cancelling a job stops its workers
// mid-bundle by design, and in LOOPBACK mode the harness runs in this test process, so
// this test runs without -race (make test runs it separately).

package embedded

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func TestCancelStopsTheJob(t *testing.T) {
	srv := startServer(t)
	conn, err := grpc.NewClient(srv.Endpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := jobpb.NewJobServiceClient(conn)
	baseline := sluiceGoroutines()

	p, s := beam.NewPipelineWithRoot()
	beam.ParDo(s, slowly, beam.Create(s, "a"))
	done := make(chan error, 1)
	go func() {
		_, err := execute(t, srv, p)
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var jobID string
	for jobID == "" {
		jobs, err := client.GetJobs(ctx, &jobpb.GetJobsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs.GetJobInfo() {
			if j.GetState() == jobpb.JobState_RUNNING {
				jobID = j.GetJobId()
			}
		}
		if ctx.Err() != nil {
			t.Fatal("the job never reached RUNNING")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := client.Cancel(ctx, &jobpb.CancelJobRequest{JobId: jobID}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the client did not return after Cancel")
	}
	st, err := client.GetState(ctx, &jobpb.GetJobStateRequest{JobId: jobID})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetState() != jobpb.JobState_CANCELLED {
		t.Errorf("state after Cancel = %v, want CANCELLED", st.GetState())
	}
	// Nothing Sluice started for the job outlives it. (The LOOPBACK SDK harness runs in this
	// test process too; its goroutines are the SDK's business, so only Sluice's are counted.)
	deadline := time.Now().Add(20 * time.Second)
	for sluiceGoroutines() > baseline && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := sluiceGoroutines(); n > baseline {
		buf := make([]byte, 1<<20)
		t.Errorf("%d Sluice goroutines after the cancelled job, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// sluiceGoroutines counts goroutines running Sluice code other than this test's own.
func sluiceGoroutines() int {
	buf := make([]byte, 4<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "sluice-runner/sluice/") && !strings.Contains(g, "embedded.Test") && !strings.Contains(g, "embedded_test.go") {
			n++
		}
	}
	return n
}
