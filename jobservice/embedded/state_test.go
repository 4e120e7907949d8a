package embedded

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"

	"github.com/sluice-runner/sluice/state"
)

// TestStateBackends runs a group larger than a group may carry inline (its tail stays in
// the task's store and the SDK reads it through runner state) with each backend; with
// Pebble, the job's state is gone once the job has ended.
func TestStateBackends(t *testing.T) {
	for _, backend := range []string{StateMemory, StatePebble} {
		t.Run(backend, func(t *testing.T) {
			srv := startServerWith(t, backend)
			p, s := beam.NewPipelineWithRoot()
			const n = 100_000
			counts := beam.ParDo(s, countGroup, beam.GroupByKey(s, beam.ParDo(s, fanOut, beam.Create(s, n))))
			passert.Equals(s, beam.ParDo(s, formatCount, counts), fmt.Sprintf("k: %d", n))
			res, err := execute(t, srv, p)
			if err != nil {
				t.Fatalf("pipeline failed: %v", err)
			}
			if backend == StateMemory {
				if srv.state != nil {
					t.Error("the memory backend opened a state database")
				}
				return
			}
			if m, _ := filepath.Glob(filepath.Join(srv.state.Dir(), "MANIFEST-*")); len(m) == 0 {
				t.Errorf("no Pebble database in the state directory %s", srv.state.Dir())
			}
			// The job's outcome is published once Execute has returned, after its last
			// task ended and dropped the job's state.
			if empty, err := srv.state.NamespaceEmpty(state.Namespace(res.JobID())); !empty || err != nil {
				t.Errorf("state of job %s after it ended: empty=%v, %v", res.JobID(), empty, err)
			}
		})
	}
}

func TestUnknownStateBackendIsRefused(t *testing.T) {
	_, err := Start(Config{JobAddr: "127.0.0.1:0", DataDir: t.TempDir(), StateBackend: "rocksdb",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		t.Fatal("Start accepted state backend rocksdb")
	}
}
