package jobservice

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// testTimeout bounds every test's RPCs.
const testTimeout = 20 * time.Second

// fakeExecutor is an in-memory Executor whose behaviour each test sets.
type fakeExecutor struct {
	validate func(*pipepb.Pipeline, *structpb.Struct) error
	execute  func(context.Context, *Run) error

	mu   sync.Mutex
	runs map[string]*Run
}

func (f *fakeExecutor) Validate(p *pipepb.Pipeline, o *structpb.Struct) error {
	if f.validate != nil {
		return f.validate(p, o)
	}
	return nil
}

func (f *fakeExecutor) Execute(ctx context.Context, r *Run) error {
	f.mu.Lock()
	if f.runs == nil {
		f.runs = map[string]*Run{}
	}
	f.runs[r.JobID] = r
	f.mu.Unlock()
	if f.execute != nil {
		return f.execute(ctx, r)
	}
	r.SetRunning()
	return nil
}

func (f *fakeExecutor) run(t *testing.T, id string) *Run {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[id]
	if !ok {
		t.Fatalf("executor never ran job %s", id)
	}
	return r
}

// testEnv is a Server on a real loopback gRPC port plus a client.
type testEnv struct {
	srv      *Server
	grpc     *grpc.Server
	conn     *grpc.ClientConn
	client   jobpb.JobServiceClient
	endpoint string
	dataDir  string
	exec     *fakeExecutor
	stopped  bool
}

func startEnv(t *testing.T, exec *fakeExecutor, mutate ...func(*Config)) *testEnv {
	t.Helper()
	cfg := Config{
		DataDir:  t.TempDir(),
		Executor: exec,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	g := grpc.NewServer()
	srv.Register(g)
	srv.Retrieval().Register(g)
	srv.SetEndpoint(lis.Addr().String())
	served := make(chan struct{})
	go func() { defer close(served); _ = g.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	e := &testEnv{srv: srv, grpc: g, conn: conn, client: jobpb.NewJobServiceClient(conn),
		endpoint: lis.Addr().String(), dataDir: cfg.DataDir, exec: exec}
	t.Cleanup(func() {
		e.stop(t)
		<-served
	})
	return e
}

// stop shuts the server down and closes the connection (idempotent).
func (e *testEnv) stop(t *testing.T) {
	t.Helper()
	if e.stopped {
		return
	}
	e.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	e.conn.Close()
	e.grpc.Stop()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

const roleGoWorker = "beam:artifact:role:go_worker_binary:v1"

func pipelineWith(deps ...*pipepb.ArtifactInformation) *pipepb.Pipeline {
	return &pipepb.Pipeline{Components: &pipepb.Components{
		Environments: map[string]*pipepb.Environment{
			"go": {Urn: "beam:env:external:v1", Dependencies: deps},
		},
	}}
}

func fileDep(t *testing.T, path, sha, role string) *pipepb.ArtifactInformation {
	t.Helper()
	pl, err := proto.Marshal(&pipepb.ArtifactFilePayload{Path: path, Sha256: sha})
	if err != nil {
		t.Fatal(err)
	}
	return &pipepb.ArtifactInformation{TypeUrn: URNArtifactFile, TypePayload: pl, RoleUrn: role}
}

// writeTemp writes content to a new temp file and returns its path and sha.
func writeTemp(t *testing.T, name string, content []byte) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	return p, hex.EncodeToString(sum[:])
}

// content returns n deterministic bytes derived from seed.
func content(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed ^ byte(i*31+i/251)
	}
	return b
}

func (e *testEnv) prepare(t *testing.T, name string, p *pipepb.Pipeline) *jobpb.PrepareJobResponse {
	t.Helper()
	resp, err := e.client.Prepare(testCtx(t), &jobpb.PrepareJobRequest{Pipeline: p, JobName: name, PipelineOptions: &structpb.Struct{}})
	if err != nil {
		t.Fatalf("Prepare(%s): %v", name, err)
	}
	return resp
}

// waitState reads the job's state stream until it reports want.
func (e *testEnv) waitState(t *testing.T, id string, want jobpb.JobState_Enum) {
	t.Helper()
	st, err := e.client.GetStateStream(testCtx(t), &jobpb.GetJobStateRequest{JobId: id})
	if err != nil {
		t.Fatalf("GetStateStream: %v", err)
	}
	for {
		ev, err := st.Recv()
		if err != nil {
			t.Fatalf("waiting for %s of job %s: %v", want, id, err)
		}
		if ev.GetState() == want {
			return
		}
	}
}

// fileArtifact decodes a file artifact's payload.
func fileArtifact(t *testing.T, a *pipepb.ArtifactInformation) *pipepb.ArtifactFilePayload {
	t.Helper()
	if a.GetTypeUrn() != URNArtifactFile {
		t.Fatalf("artifact type %q, want %q", a.GetTypeUrn(), URNArtifactFile)
	}
	var pl pipepb.ArtifactFilePayload
	if err := proto.Unmarshal(a.GetTypePayload(), &pl); err != nil {
		t.Fatal(err)
	}
	return &pl
}

func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d bytes staged", path, len(got), len(want))
	}
}
