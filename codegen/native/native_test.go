package native_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/codegen/gen"
	"github.com/sluice-runner/sluice/jobservice/embedded"
	"github.com/sluice-runner/sluice/runner/wire"
)

// The end-to-end contract: the same program, built with its generated file, gives the
// same output with its stages native as with them portable (--sluice_native=false), and
// the job says which ran how.
func TestNativeMatchesPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir := programDir(t)
	bin := buildWith(t, dir, map[string]string{"linecount" + capture.GeneratedSuffix: generate(t, dir)})

	portable, msgs, portableCounters := runOnSluice(t, bin, loopback, "--lines=3000", "--sluice_native=false")
	for id, mode := range stageModes(msgs) {
		if mode != "portable" {
			t.Errorf("with --sluice_native=false stage %s runs %s", id, mode)
		}
	}
	if portableCounters["words"] == 0 || len(portableCounters) < 5 {
		t.Errorf("portable run: metrics %v, want words > 0 and the PCollections' element counts", portableCounters)
	}
	for _, env := range []string{loopback, process} {
		native, msgs, counters := runOnSluice(t, bin, env, "--lines=3000")
		// The user counter and every PCollection's element count, those inside the fused
		// chains included, read as they do portably.
		if !maps.Equal(counters, portableCounters) {
			t.Errorf("%s: native metrics %v, portable %v", env, counters, portableCounters)
		}
		if got := stageModes(msgs); len(got) != 2 || got["s1"] != "native" || got["s3"] != "native" {
			t.Errorf("%s: stage modes %v, want s1 and s3 native; messages:\n%s", env, got, strings.Join(msgs, "\n"))
		}
		if len(native) == 0 || !slices.Equal(native, portable) {
			t.Errorf("%s: native output (%d lines) differs from portable output (%d lines):\nnative:   %q\nportable: %q", env, len(native), len(portable), native, portable)
		}
	}
}

// The environments the tests run in: the launching process is the worker (LOOPBACK), or
// Sluice starts the program's binary as the worker (PROCESS).
const (
	loopback = "LOOPBACK"
	process  = "PROCESS"
)

// A pipeline edited after go generate runs correctly: the stages the edit changed have no
// chain in the (now stale) generated file and run portably, with a warning that says so;
// the others still run native.
func TestEditedPipelineRunsChangedStagesPortably(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a pipeline program")
	}
	dir := programDir(t)
	generated := generate(t, dir)
	src, err := os.ReadFile(filepath.Join(dir, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	const from = "beam.ParDo(s, formatCount, stats.Count(s, words))"
	if !strings.Contains(string(src), from) {
		t.Fatalf("main.go no longer contains %q", from)
	}
	edited := strings.Replace(string(src), from, "beam.ParDo(s, strings.ToUpper, "+from+")", 1)
	bin := buildWith(t, dir, map[string]string{"linecount" + capture.GeneratedSuffix: generated, "main.go": edited})

	native, msgs, _ := runOnSluice(t, bin, loopback, "--lines=500")
	if got := stageModes(msgs); got["s1"] != "native" || got["s3"] != "portable" {
		t.Errorf("stage modes %v, want s1 native and s3 portable; messages:\n%s", got, strings.Join(msgs, "\n"))
	}
	if !slices.ContainsFunc(msgs, func(m string) bool {
		return strings.Contains(m, "does not match these stages") && strings.Contains(m, "s3 ")
	}) {
		t.Errorf("no warning names stale stage s3; messages:\n%s", strings.Join(msgs, "\n"))
	}
	portable, _, _ := runOnSluice(t, bin, loopback, "--lines=500", "--sluice_native=false")
	if len(native) == 0 || !slices.Equal(native, portable) || !strings.Contains(native[0], ": ") || strings.ToUpper(native[0]) != native[0] {
		t.Errorf("edited pipeline: mixed output %q, portable output %q", native, portable)
	}
}

func programDir(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("testdata", "linecount"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// generate runs sluicegen's steps on the program in dir and returns the file's path.
func generate(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := capture.Run(ctx, capture.Options{Dir: dir, Package: "main", Args: []string{"--output=unused"}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := gen.Analyze(c)
	if err != nil {
		t.Fatal(err)
	}
	src, err := gen.Generate(a, gen.Options{Package: "main"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// buildWith builds the program in dir with files replaced through an overlay: each name
// maps to a path, or (for main.go) to new contents.
func buildWith(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	tmp := t.TempDir()
	replace := map[string]string{}
	for name, v := range files {
		path := v
		if name == "main.go" {
			path = filepath.Join(tmp, "main.go")
			if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		replace[filepath.Join(dir, name)] = path
	}
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": replace})
	overlayFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "linecount")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-overlay="+overlayFile, "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runOnSluice runs the program on a fresh embedded server in environment env and
// returns its output lines, sorted, the job's messages and its user counters.
func runOnSluice(t *testing.T, bin, env string, args ...string) (lines, messages []string, counters map[string]int64) {
	t.Helper()
	return runOn(t, startServer(t), bin, env, args...)
}

// runOn is runOnSluice on server srv.
func runOn(t *testing.T, srv *embedded.Server, bin, env string, args ...string) (lines, messages []string, counters map[string]int64) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "counts")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	flags := []string{"--output=" + out, "--runner=universal", "--endpoint=" + srv.Endpoint(), "--environment_type=" + env}
	if env == process {
		flags = append(flags, "--worker_binary="+bin, `--environment_config={"command":"`+bin+`"}`)
	}
	cmd := exec.CommandContext(ctx, bin, append(flags, args...)...)
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, log)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSpace(string(b)), "\n")
	slices.Sort(lines)
	messages, counters = jobOutcome(t, srv.Endpoint())
	return lines, messages, counters
}

// startServer starts an embedded Sluice server, shut down when the test ends; each
// option changes its configuration first.
func startServer(t *testing.T, options ...func(*embedded.Config)) *embedded.Server {
	t.Helper()
	cfg := embedded.Config{
		JobAddr: "127.0.0.1:0", DataDir: t.TempDir(), Parallelism: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range options {
		o(&cfg)
	}
	srv, err := embedded.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv
}

// stageModes reads the "how SDK stages run" message: stage id -> native or portable.
func stageModes(messages []string) map[string]string {
	modes := map[string]string{}
	line := regexp.MustCompile(`(?m)^  (s\d+) .*?: (native|portable)\b`)
	for _, m := range messages {
		if !strings.HasPrefix(m, "how SDK stages run:") {
			continue
		}
		for _, sm := range line.FindAllStringSubmatch(m, -1) {
			modes[sm[1]] = sm[2]
		}
	}
	return modes
}

// jobOutcome returns the text of every message of the server's only job, and its user
// counters' committed values by name.
func jobOutcome(t *testing.T, endpoint string) (messages []string, counters map[string]int64) {
	t.Helper()
	cc, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
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
	id := jobs.GetJobInfo()[0].GetJobId()
	metrics, err := client.GetJobMetrics(ctx, &jobpb.GetJobMetricsRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	counters = map[string]int64{}
	for _, mi := range metrics.GetMetrics().GetCommitted() {
		name := ""
		switch mi.GetUrn() {
		case "beam:metric:user:sum_int64:v1":
			name = mi.GetLabels()["NAME"]
		case "beam:metric:element_count:v1":
			name = "elements of " + mi.GetLabels()["PCOLLECTION"]
		default:
			continue
		}
		v, _, err := wire.DecodeVarInt(mi.GetPayload())
		if err != nil {
			t.Fatal(err)
		}
		counters[name] += v
	}
	stream, err := client.GetMessageStream(ctx, &jobpb.JobMessagesRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return messages, counters
		}
		if err != nil {
			t.Fatal(err)
		}
		if m := resp.GetMessageResponse(); m != nil {
			messages = append(messages, m.GetMessageText())
		}
	}
}
