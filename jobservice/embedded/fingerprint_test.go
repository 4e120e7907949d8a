package embedded

import (
	"context"
	"errors"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/codegen/gen"
)

// The job's plan message gives each SDK stage the fingerprint sluicegen computes for it
// from a capture of the same program: the contract by which a worker will know whether
// generated code fits a stage.
func TestPlanMessageCarriesSluicegenFingerprints(t *testing.T) {
	build := func() *beam.Pipeline {
		p, s := beam.NewPipelineWithRoot()
		counts := beam.ParDo(s, formatCount, stats.Count(s, beam.ParDo(s, splitWords, beam.Create(s, "a b", "b c"))))
		beam.ParDo(s, failOn, counts)
		return p
	}
	c, err := capture.Record(context.Background(), build())
	if err != nil {
		t.Fatal(err)
	}
	a, err := gen.Analyze(c)
	if err != nil {
		t.Fatal(err)
	}
	want := a.Fingerprints()

	srv := startServer(t)
	if _, err := execute(t, srv, build()); err != nil {
		t.Fatalf("pipeline failed: %v", err)
	}
	got := map[string]string{}
	stage := regexp.MustCompile(`(?m)^  (s\d+) sdk .*\[fingerprint ([0-9a-f]{32})\]$`)
	for _, m := range jobMessages(t, srv) {
		for _, sm := range stage.FindAllStringSubmatch(m, -1) {
			got[sm[1]] = sm[2]
		}
	}
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("plan message fingerprints %v, sluicegen's %v", got, want)
	}
	for id, fp := range want {
		if got[id] != fp {
			t.Errorf("stage %s: runner fingerprint %q, sluicegen %q", id, got[id], fp)
		}
	}
}

// jobMessages returns the text of every message of the server's only job.
func jobMessages(t *testing.T, srv *Server) []string {
	t.Helper()
	cc, err := grpc.NewClient(srv.Endpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := jobpb.NewJobServiceClient(cc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	jobs, err := client.GetJobs(ctx, &jobpb.GetJobsRequest{})
	if err != nil || len(jobs.GetJobInfo()) != 1 {
		t.Fatalf("GetJobs: %v, %d jobs", err, len(jobs.GetJobInfo()))
	}
	stream, err := client.GetMessageStream(ctx, &jobpb.JobMessagesRequest{JobId: jobs.GetJobInfo()[0].GetJobId()})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if m := resp.GetMessageResponse(); m != nil {
			out = append(out, m.GetMessageText())
		}
	}
}
