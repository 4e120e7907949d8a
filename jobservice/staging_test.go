package jobservice

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/artifact"
	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal/runnerlib"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/util/grpcx"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// TestStageRunRetrieve drives the Go SDK's own client code: stage, submit,
// wait, then materialize the staged artifact as a worker's boot would.
func TestStageRunRetrieve(t *testing.T) {
	e := startEnv(t, &fakeExecutor{})
	ctx := testCtx(t)
	data := content(7, 2<<20+12345) // spans three 1 MiB chunks
	path, sum := writeTemp(t, "worker", data)

	prep := e.prepare(t, "word count!", pipelineWith(fileDep(t, path, sum, roleGoWorker)))
	if got := prep.GetPreparationId(); !strings.HasPrefix(got, "word-count-") {
		t.Errorf("preparation id %q, want a sanitized job name prefix", got)
	}
	if got := prep.GetArtifactStagingEndpoint().GetUrl(); got != e.endpoint {
		t.Errorf("staging endpoint %q, want %q", got, e.endpoint)
	}
	token, err := runnerlib.Stage(ctx, prep.GetPreparationId(), prep.GetArtifactStagingEndpoint().GetUrl(), "", prep.GetStagingSessionToken())
	if err != nil {
		t.Fatalf("runnerlib.Stage: %v", err)
	}
	jobID, err := runnerlib.Submit(ctx, e.client, prep.GetPreparationId(), token)
	if err != nil {
		t.Fatalf("runnerlib.Submit: %v", err)
	}
	if err := runnerlib.WaitForCompletion(ctx, e.client, jobID); err != nil {
		t.Fatalf("WaitForCompletion: %v", err)
	}

	run := e.exec.run(t, jobID)
	deps := run.Pipeline.GetComponents().GetEnvironments()["go"].GetDependencies()
	if len(deps) != 1 {
		t.Fatalf("run pipeline has %d dependencies, want 1", len(deps))
	}
	pl := fileArtifact(t, deps[0])
	if want := filepath.Join(e.dataDir, "artifacts", "sha256", sum); pl.GetPath() != want {
		t.Errorf("staged path %q, want %q", pl.GetPath(), want)
	}
	if !filepath.IsAbs(pl.GetPath()) || pl.GetSha256() != sum {
		t.Errorf("staged payload %v, want absolute path and sha %s", pl, sum)
	}
	if deps[0].GetRoleUrn() != roleGoWorker {
		t.Errorf("role %q not kept", deps[0].GetRoleUrn())
	}
	checkFile(t, pl.GetPath(), data)
	if run.RetrievalToken != token {
		t.Errorf("retrieval token %q, want %q", run.RetrievalToken, token)
	}

	gp, err := e.client.GetPipeline(ctx, &jobpb.GetJobPipelineRequest{JobId: jobID})
	if err != nil {
		t.Fatalf("GetPipeline: %v", err)
	}
	if !proto.Equal(gp.GetPipeline(), run.Pipeline) {
		t.Errorf("GetPipeline differs from the pipeline the executor got")
	}

	dest := t.TempDir()
	got, err := artifact.Materialize(ctx, e.endpoint, deps, token, dest)
	if err != nil {
		t.Fatalf("artifact.Materialize: %v", err)
	}
	checkFile(t, filepath.Join(dest, fileArtifact(t, got[0]).GetPath()), data)
}

func TestStageShaMismatchRefusesRun(t *testing.T) {
	e := startEnv(t, &fakeExecutor{})
	ctx := testCtx(t)
	path, _ := writeTemp(t, "worker", []byte("real bytes"))
	bad := strings.Repeat("ab", 32)
	prep := e.prepare(t, "bad", pipelineWith(fileDep(t, path, bad, roleGoWorker)))

	err := runnerlib.StageViaPortableAPI(grpcx.WriteWorkerID(ctx, prep.GetPreparationId()), e.conn, "", prep.GetStagingSessionToken())
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Fatalf("staging error %v, want a sha256 mismatch", err)
	}
	_, err = e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: prep.GetPreparationId()})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), bad) {
		t.Fatalf("Run error %v, want FailedPrecondition naming %s and the declared sha", err, path)
	}
}

func TestRunWithoutStagingRefused(t *testing.T) {
	e := startEnv(t, &fakeExecutor{})
	path, sum := writeTemp(t, "worker", []byte("x"))
	prep := e.prepare(t, "nostage", pipelineWith(fileDep(t, path, sum, roleGoWorker)))
	_, err := e.client.Run(testCtx(t), &jobpb.RunJobRequest{PreparationId: prep.GetPreparationId()})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), `environment "go"`) {
		t.Fatalf("Run error %v, want FailedPrecondition naming the environment", err)
	}
}

// TestStageOtherClients speaks the protocol as the Python and Java SDKs
// may: resolution into several artifacts, data and is_last in one message,
// embedded artifacts.
func TestStageOtherClients(t *testing.T) {
	e := startEnv(t, &fakeExecutor{})
	ctx := testCtx(t)
	emb, _ := proto.Marshal(&pipepb.EmbeddedFilePayload{Data: []byte("embedded")})
	orig, _ := proto.Marshal(&pipepb.ArtifactFilePayload{Path: "/client/requirements.txt"})
	name, _ := proto.Marshal(&pipepb.ArtifactStagingToRolePayload{StagedName: "requirements.txt"})
	p := pipelineWith(
		&pipepb.ArtifactInformation{TypeUrn: URNArtifactFile, TypePayload: orig, RoleUrn: URNRoleStagingTo, RolePayload: name},
		&pipepb.ArtifactInformation{TypeUrn: URNArtifactEmbedded, TypePayload: emb},
	)
	prep := e.prepare(t, "py", p)

	stream, err := jobpb.NewArtifactStagingServiceClient(e.conn).ReverseArtifactRetrievalService(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&jobpb.ArtifactResponseWrapper{StagingToken: prep.GetStagingSessionToken()}); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"/client/a.whl": "wheel a", "/client/b.whl": "wheel b"}
	for {
		req, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("staging stream: %v", err)
		}
		var resp *jobpb.ArtifactResponseWrapper
		switch r := req.GetRequest().(type) {
		case *jobpb.ArtifactRequestWrapper_ResolveArtifact:
			// The client expands its requirements file into two wheels and
			// passes the embedded artifact through.
			var reps []*pipepb.ArtifactInformation
			for _, f := range []string{"/client/a.whl", "/client/b.whl"} {
				pl, _ := proto.Marshal(&pipepb.ArtifactFilePayload{Path: f})
				reps = append(reps, &pipepb.ArtifactInformation{TypeUrn: URNArtifactFile, TypePayload: pl, RoleUrn: URNRoleStagingTo, RolePayload: name})
			}
			reps = append(reps, r.ResolveArtifact.GetArtifacts()[1])
			resp = &jobpb.ArtifactResponseWrapper{Response: &jobpb.ArtifactResponseWrapper_ResolveArtifactResponse{
				ResolveArtifactResponse: &jobpb.ResolveArtifactsResponse{Replacements: reps}}}
		case *jobpb.ArtifactRequestWrapper_GetArtifact:
			var pl pipepb.ArtifactFilePayload
			if err := proto.Unmarshal(r.GetArtifact.GetArtifact().GetTypePayload(), &pl); err != nil {
				t.Fatal(err)
			}
			resp = &jobpb.ArtifactResponseWrapper{IsLast: true, Response: &jobpb.ArtifactResponseWrapper_GetArtifactResponse{
				GetArtifactResponse: &jobpb.GetArtifactResponse{Data: []byte(files[pl.GetPath()])}}}
		}
		if err := stream.Send(resp); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.client.Run(ctx, &jobpb.RunJobRequest{PreparationId: prep.GetPreparationId()}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.waitState(t, prep.GetPreparationId(), jobpb.JobState_DONE)
	deps := e.exec.run(t, prep.GetPreparationId()).Pipeline.GetComponents().GetEnvironments()["go"].GetDependencies()
	want := []string{"wheel a", "wheel b", "embedded"}
	if len(deps) != len(want) {
		t.Fatalf("%d dependencies after staging, want %d", len(deps), len(want))
	}
	for i, d := range deps {
		checkFile(t, fileArtifact(t, d).GetPath(), []byte(want[i]))
	}
	if deps[0].GetRoleUrn() != URNRoleStagingTo || !proto.Equal(deps[0], &pipepb.ArtifactInformation{
		TypeUrn: deps[0].GetTypeUrn(), TypePayload: deps[0].GetTypePayload(), RoleUrn: URNRoleStagingTo, RolePayload: name}) {
		t.Errorf("staging_to role not kept: %v", deps[0])
	}
}

func TestStagingUnknownToken(t *testing.T) {
	e := startEnv(t, &fakeExecutor{})
	err := runnerlib.StageViaPortableAPI(testCtx(t), e.conn, "", "no-such-token")
	if err == nil || !strings.Contains(err.Error(), "no prepared job") {
		t.Fatalf("staging with an unknown token: %v, want NotFound", err)
	}
}

func TestRetrievalRefusals(t *testing.T) {
	e := startEnv(t, &fakeExecutor{})
	ctx := testCtx(t)
	rc := jobpb.NewArtifactRetrievalServiceClient(e.conn)
	outside, _ := writeTemp(t, "secret", []byte("secret"))
	get := func(a *pipepb.ArtifactInformation) error {
		s, err := rc.GetArtifact(ctx, &jobpb.GetArtifactRequest{Artifact: a})
		if err != nil {
			return err
		}
		for {
			if _, err := s.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
		}
	}
	root := filepath.Join(e.dataDir, "artifacts")
	cases := []struct {
		name string
		a    *pipepb.ArtifactInformation
		want codes.Code
	}{
		{"outside", fileDep(t, outside, "", ""), codes.PermissionDenied},
		{"traversal", fileDep(t, filepath.Join(root, "sha256", "..", "..", "..", filepath.Base(outside)), "", ""), codes.PermissionDenied},
		{"relative", fileDep(t, "artifacts/sha256/x", "", ""), codes.PermissionDenied},
		{"root itself", fileDep(t, root, "", ""), codes.PermissionDenied},
		{"partial upload", fileDep(t, filepath.Join(root, "tmp", "staging-1"), "", ""), codes.PermissionDenied},
		{"missing", fileDep(t, filepath.Join(root, "sha256", "nope"), "", ""), codes.NotFound},
		{"url type", &pipepb.ArtifactInformation{TypeUrn: URNArtifactURL}, codes.InvalidArgument},
	}
	for _, c := range cases {
		if err := get(c.a); status.Code(err) != c.want {
			t.Errorf("%s: GetArtifact error %v, want %s", c.name, err, c.want)
		}
	}
	res, err := rc.ResolveArtifacts(ctx, &jobpb.ResolveArtifactsRequest{Artifacts: []*pipepb.ArtifactInformation{fileDep(t, outside, "", "r")}})
	if err != nil || len(res.GetReplacements()) != 1 || !proto.Equal(res.GetReplacements()[0], fileDep(t, outside, "", "r")) {
		t.Errorf("ResolveArtifacts = %v, %v; want the input unchanged", res, err)
	}
}
