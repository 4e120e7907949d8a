package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// drainTest is the test that passes only when an operator drains its job.
const drainTest = "TestDrain"

// drainJobs plays the operator for TestDrain: it polls the job server's
// GetJobs and, once a job whose name contains "testdrain" has been RUNNING
// for `after`, calls Drain on it, once per job. It returns when ctx is done
// (the test ended). What it does is written to log.
func drainJobs(ctx context.Context, endpoint string, after time.Duration, log io.Writer) {
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintf(log, "drain: connect to %s: %v\n", endpoint, err)
		return
	}
	defer conn.Close()
	client := jobpb.NewJobServiceClient(conn)
	runningSince := map[string]time.Time{}
	drained := map[string]bool{}
	lastErr := ""
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		jobs, err := listJobs(ctx, client)
		if err != nil {
			if msg := err.Error(); msg != lastErr && ctx.Err() == nil {
				fmt.Fprintf(log, "drain: %v\n", err)
				lastErr = msg
			}
			continue
		}
		for _, j := range jobs {
			if drained[j.GetJobId()] || !strings.Contains(strings.ToLower(j.GetJobName()), "testdrain") {
				continue
			}
			if j.GetState() != jobpb.JobState_RUNNING {
				continue
			}
			since, ok := runningSince[j.GetJobId()]
			if !ok {
				runningSince[j.GetJobId()] = time.Now()
				fmt.Fprintf(log, "drain: job %s (%s) is RUNNING; draining it in %s\n", j.GetJobId(), j.GetJobName(), after)
				continue
			}
			if time.Since(since) < after {
				continue
			}
			drained[j.GetJobId()] = true
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			resp, err := client.Drain(rctx, &jobpb.DrainJobRequest{JobId: j.GetJobId()})
			cancel()
			if err != nil {
				fmt.Fprintf(log, "drain: Drain(%s): %v\n", j.GetJobId(), err)
				continue
			}
			fmt.Fprintf(log, "drain: Drain(%s) accepted, job state %s\n", j.GetJobId(), resp.GetState())
		}
	}
}

func listJobs(ctx context.Context, client jobpb.JobServiceClient) ([]*jobpb.JobInfo, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := client.GetJobs(rctx, &jobpb.GetJobsRequest{})
	if err != nil {
		return nil, fmt.Errorf("GetJobs: %w", err)
	}
	return resp.GetJobInfo(), nil
}
