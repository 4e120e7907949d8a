package fnharness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// TestMain lets the test binary act as a PROCESS worker (a Go worker binary or
// a boot program) when the runner execs it.
func TestMain(m *testing.M) {
	if os.Getenv("FNHARNESS_FAKE_WORKER") == "1" {
		os.Exit(fakeWorkerMain())
	}
	os.Exit(m.Run())
}

func fakeWorkerMain() int {
	flags := map[string]string{}
	for _, a := range os.Args[1:] {
		if k, v, ok := strings.Cut(strings.TrimLeft(a, "-"), "="); ok {
			flags[k] = v
		}
	}
	fmt.Printf("pid=%d\n", os.Getpid())
	if os.Getenv("FNHARNESS_FAKE_CRASH") == "1" {
		fmt.Fprintln(os.Stderr, "fatal: cannot load user code")
		return 3
	}
	control := flags["control_endpoint"]
	if prov := flags["provision_endpoint"]; prov != "" { // boot-program mode
		conn, err := grpc.NewClient(prov, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			fmt.Println("provision:", err)
			return 1
		}
		ctx := metadata.AppendToOutgoingContext(context.Background(), "worker_id", flags["id"])
		info, err := fnpb.NewProvisionServiceClient(conn).GetProvisionInfo(ctx, &fnpb.GetProvisionInfoRequest{})
		if err != nil {
			fmt.Println("provision:", err)
			return 1
		}
		control = info.GetInfo().GetControlEndpoint().GetUrl()
		fmt.Printf("boot: provisioned, token=%s\n", info.GetInfo().GetRetrievalToken())
	} else {
		opts, err := os.ReadFile(os.Getenv("PIPELINE_OPTIONS_FILE"))
		fmt.Printf("worker=%s options=%s err=%v\n", flags["worker"], opts, err)
	}
	f := newFakeSDK(flags["id"], control)
	if err := f.start(); err != nil {
		fmt.Println("start:", err)
		return 1
	}
	select {} // until the runner kills us
}

func testProcessEnv(t *testing.T, goBinary bool, extraEnv map[string]string) *pipepb.Environment {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FNHARNESS_FAKE_WORKER": "1"}
	for k, v := range extraEnv {
		env[k] = v
	}
	pp := &pipepb.ProcessPayload{Env: env}
	e := &pipepb.Environment{Urn: URNEnvProcess}
	if goBinary {
		fp, _ := proto.Marshal(&pipepb.ArtifactFilePayload{Path: exe})
		e.Dependencies = []*pipepb.ArtifactInformation{{TypeUrn: URNArtifactFile, TypePayload: fp, RoleUrn: URNArtifactGoWorkerRole}}
	} else {
		pp.Command = exe
	}
	e.Payload, _ = proto.Marshal(pp)
	return e
}

func pidFromLogs(t *testing.T, w *Worker) int {
	t.Helper()
	for _, l := range w.RecentLogs() {
		if s, ok := strings.CutPrefix(l, "process: pid="); ok {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
	}
	t.Fatalf("no pid line in %q", w.RecentLogs())
	return 0
}

func TestProcessEnvironment(t *testing.T) {
	for _, goBinary := range []bool{true, false} {
		t.Run(fmt.Sprintf("goBinary=%v", goBinary), func(t *testing.T) {
			s := startServer(t)
			opts, _ := structpb.NewStruct(map[string]any{"beam:option:go_options:v1": map[string]any{"options": map[string]any{"job_name": "p"}}})
			ctx := testCtx(t)
			w, err := s.StartWorker(ctx, WorkerConfig{JobID: "proc", Env: testProcessEnv(t, goBinary, nil), PipelineOptions: opts, RetrievalToken: "tok"})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop(context.Background())
			w.Register(echoDescriptor("d1"))
			b, err := w.StartBundle(ctx, "d1", nil)
			if err != nil {
				t.Fatal(err)
			}
			b.Send("src", []byte("ping"))
			b.CloseInput([]string{"src"}, nil)
			var got []byte
			for _, o := range drain(t, b) {
				got = append(got, o.Data...)
			}
			if _, err := b.Result(); err != nil || string(got) != "ping" {
				t.Fatalf("echo = %q, %v", got, err)
			}
			poll(t, "the worker's output", func() bool {
				logs := strings.Join(w.RecentLogs(), "\n")
				if goBinary {
					return strings.Contains(logs, "worker=true options=") && strings.Contains(logs, "job_name")
				}
				return strings.Contains(logs, "boot: provisioned, token=tok")
			})
			pid := pidFromLogs(t, w)
			if err := w.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("worker process %d still exists after Stop (kill 0: %v)", pid, err)
			}
		})
	}
}

func TestProcessCrashBeforeConnect(t *testing.T) {
	s := startServer(t)
	_, err := s.StartWorker(testCtx(t), WorkerConfig{JobID: "proc", Env: testProcessEnv(t, true, map[string]string{"FNHARNESS_FAKE_CRASH": "1"})})
	if err == nil {
		t.Fatal("StartWorker succeeded for a crashing worker")
	}
	for _, want := range []string{"exit status 3", "fatal: cannot load user code"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
