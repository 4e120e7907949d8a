package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// stageMode is one line of Sluice's "how SDK stages run" job message: "  s2 names…: native, …".
var stageMode = regexp.MustCompile(`(?m)^  (s\d+) .*?: (native|portable)\b`)

// stageModes asks the job server how the SDK stages of its latest job ran (native or
// portable), as Sluice says in a job message; "" when the server does not say (another
// runner) or cannot be asked.
func stageModes(ctx context.Context, endpoint string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cc, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return ""
	}
	defer cc.Close()
	client := jobpb.NewJobServiceClient(cc)
	jobs, err := client.GetJobs(ctx, &jobpb.GetJobsRequest{})
	if err != nil || len(jobs.GetJobInfo()) == 0 {
		return ""
	}
	id := jobs.GetJobInfo()[len(jobs.GetJobInfo())-1].GetJobId()
	stream, err := client.GetMessageStream(ctx, &jobpb.JobMessagesRequest{JobId: id})
	if err != nil {
		return ""
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) || err != nil {
			return ""
		}
		if modes := summarizeStageModes(resp.GetMessageResponse().GetMessageText()); modes != "" {
			return modes
		}
	}
}

// summarizeStageModes turns Sluice's "how SDK stages run" message into "s1 native, s2
// portable"; any other message gives "".
func summarizeStageModes(text string) string {
	if !strings.HasPrefix(text, "how SDK stages run:") {
		return ""
	}
	var modes []string
	for _, m := range stageMode.FindAllStringSubmatch(text, -1) {
		modes = append(modes, m[1]+" "+m[2])
	}
	return strings.Join(modes, ", ")
}

// printStageModes prints how the SDK stages ran, if the server says.
func printStageModes(ctx context.Context, endpoint string) {
	if modes := stageModes(ctx, endpoint); modes != "" {
		fmt.Printf("SDK stages: %s\n", modes)
	}
}
