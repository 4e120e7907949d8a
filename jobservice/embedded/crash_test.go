package embedded

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
)

// crashWorker kills the SDK worker process it runs in. It only ever runs in a PROCESS
// worker (this test binary re-executed with the Go worker flags), never in the test itself.
func crashWorker(w string) string {
	fmt.Fprintf(os.Stderr, "worker about to crash on %q\n", w)
	time.Sleep(100 * time.Millisecond)
	os.Exit(3)
	return w
}

func init() {
	register.Function1x1(crashWorker)
}

// executeInProcessWorker runs p with PROCESS workers: this test binary is staged as the Go
// worker binary and Sluice starts it with the worker flags.
func executeInProcessWorker(t *testing.T, srv *Server, p *beam.Pipeline) error {
	t.Helper()
	*jobopts.Endpoint = srv.Endpoint()
	*jobopts.EnvironmentType = "PROCESS"
	*jobopts.EnvironmentConfig = "{}"
	*jobopts.WorkerBinary = os.Args[0]
	defer func() {
		*jobopts.EnvironmentType = "LOOPBACK"
		*jobopts.EnvironmentConfig = ""
		*jobopts.WorkerBinary = ""
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := universal.Execute(ctx, p)
	return err
}

func TestProcessWorkerRunsPipeline(t *testing.T) {
	srv := startServer(t)
	p, s := beam.NewPipelineWithRoot()
	passert.Equals(s, beam.ParDo(s, formatCount, beam.ParDo(s, countGroup, beam.GroupByKey(s, beam.ParDo(s, fanOut, beam.Create(s, 10))))), "k: 10")
	if err := executeInProcessWorker(t, srv, p); err != nil {
		t.Fatalf("pipeline failed: %v", err)
	}
}

func TestWorkerCrashFailsTheJobWithItsLastLogs(t *testing.T) {
	srv := startServer(t)
	p, s := beam.NewPipelineWithRoot()
	beam.ParDo(s, crashWorker, beam.Create(s, "doomed"))
	err := executeInProcessWorker(t, srv, p)
	if err == nil {
		t.Fatal("the job succeeded although its worker crashed")
	}
	if !strings.Contains(err.Error(), `worker about to crash on \"doomed\"`) && !strings.Contains(err.Error(), `worker about to crash on "doomed"`) {
		t.Errorf("job error does not carry the worker's last log lines:\n%v", err)
	}
	// The server keeps serving.
	p, s = beam.NewPipelineWithRoot()
	passert.Equals(s, beam.Create(s, "ok"), "ok")
	if _, err := execute(t, srv, p); err != nil {
		t.Fatalf("job after the crash failed: %v", err)
	}
}
