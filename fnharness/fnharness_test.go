package fnharness

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

const testTimeout = 20 * time.Second

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startServer(t *testing.T) *Server {
	t.Helper()
	s := NewServer(ServerConfig{Logger: testLogger(), WorkerStartTimeout: 10 * time.Second})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// echoDescriptor has a source "src" and a sink "sink" around a fake transform.
func echoDescriptor(id string) *fnpb.ProcessBundleDescriptor {
	port, _ := proto.Marshal(&fnpb.RemoteGrpcPort{CoderId: "c"})
	return &fnpb.ProcessBundleDescriptor{
		Id: id,
		Transforms: map[string]*pipepb.PTransform{
			"src":  {Spec: &pipepb.FunctionSpec{Urn: URNDataSource, Payload: port}, Outputs: map[string]string{"o": "p1"}},
			"fn":   {Spec: &pipepb.FunctionSpec{Urn: "fake:fn"}, Inputs: map[string]string{"i": "p1"}, Outputs: map[string]string{"o": "p2"}},
			"sink": {Spec: &pipepb.FunctionSpec{Urn: URNDataSink, Payload: port}, Inputs: map[string]string{"i": "p2"}},
		},
	}
}

func startFakeWorker(t *testing.T, s *Server, configure func(*fakeSDK)) (*Worker, *fakePool) {
	t.Helper()
	pool := startFakePool(t, configure)
	w, err := s.StartWorker(testCtx(t), WorkerConfig{JobID: "job1", EnvID: "go", Env: pool.env()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop(context.Background()) })
	return w, pool
}

// drain collects outputs until the bundle is done.
func drain(t *testing.T, b *Bundle) []Output {
	t.Helper()
	var out []Output
	deadline := time.After(testTimeout)
	for {
		select {
		case <-b.Available():
			out = append(out, b.Outputs()...)
			select {
			case <-b.Done():
				return append(out, b.Outputs()...)
			default:
			}
		case <-deadline:
			t.Fatalf("bundle %s did not finish", b.InstructionID())
		}
	}
}

func waitDone(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestBundleLifecycleEchoesAcrossMessages(t *testing.T) {
	s := startServer(t)
	w, pool := startFakeWorker(t, s, func(f *fakeSDK) { f.chunk = 3 })
	if err := w.Register(echoDescriptor("d1")); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	b, err := w.StartBundle(ctx, "d1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Send("src", []byte("hello ")); err != nil {
		t.Fatal(err)
	}
	if err := b.Send("src", []byte("world")); err != nil {
		t.Fatal(err)
	}
	if err := b.CloseInput([]string{"src"}, nil); err != nil {
		t.Fatal(err)
	}
	outs := drain(t, b)
	resp, err := b.Result()
	if err != nil || resp == nil {
		t.Fatalf("Result() = %v, %v", resp, err)
	}
	var got []byte
	for i, o := range outs {
		if o.TransformID != "sink" {
			t.Errorf("output %d from %q, want sink", i, o.TransformID)
		}
		if o.IsLast != (i == len(outs)-1) {
			t.Errorf("output %d IsLast=%v", i, o.IsLast)
		}
		got = append(got, o.Data...)
	}
	if string(got) != "hello world" {
		t.Errorf("echoed %q, want %q", got, "hello world")
	}
	if len(outs) < 4 {
		t.Errorf("got %d outputs, want the echo split across several messages", len(outs))
	}

	// Split, progress and finalize reach the SDK and come back.
	split, err := b.Split(ctx, &fnpb.ProcessBundleSplitRequest{})
	if err != nil || split.GetChannelSplits()[0].GetTransformId() != "split-of-"+b.InstructionID() {
		t.Errorf("Split = %v, %v", split, err)
	}
	if _, err := b.Progress(ctx); err != nil {
		t.Errorf("Progress: %v", err)
	}
	if err := w.Finalize(ctx, b.InstructionID()); err != nil {
		t.Errorf("Finalize: %v", err)
	}

	// A second bundle gets a new instruction id.
	b2, err := w.StartBundle(ctx, "d1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b2.InstructionID() == b.InstructionID() {
		t.Error("instruction ids repeat")
	}
	if err := b2.CloseInput([]string{"src"}, nil); err != nil {
		t.Fatal(err)
	}
	drain(t, b2)
	if _, err := b2.Result(); err != nil {
		t.Fatal(err)
	}

	if err := w.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, w.Done(), "worker done")
	if !errors.Is(w.Err(), ErrWorkerStopped) {
		t.Errorf("Err() = %v, want ErrWorkerStopped", w.Err())
	}
	pool.mu.Lock()
	stopped := append([]string(nil), pool.stopped...)
	pool.mu.Unlock()
	if len(stopped) != 1 || stopped[0] != w.ID() {
		t.Errorf("pool saw StopWorker for %v, want [%s]", stopped, w.ID())
	}
	if err := w.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestLargeInputIsBatched(t *testing.T) {
	s := startServer(t)
	w, _ := startFakeWorker(t, s, func(f *fakeSDK) { f.chunk = 1 << 20 })
	if err := w.Register(echoDescriptor("d1")); err != nil {
		t.Fatal(err)
	}
	b, err := w.StartBundle(testCtx(t), "d1", nil)
	if err != nil {
		t.Fatal(err)
	}
	elem := bytes.Repeat([]byte("x"), 1000)
	var want []byte
	for range 3000 { // ~3 MB: several 1 MiB messages
		if err := b.Send("src", elem); err != nil {
			t.Fatal(err)
		}
		want = append(want, elem...)
	}
	// An element larger than a batch goes in a message of its own, after what was
	// queued, and its memory is the caller's again when Send returns.
	huge := bytes.Repeat([]byte("y"), 2*MaxElementsBatch+5)
	for _, e := range [][]byte{huge, elem} {
		if err := b.Send("src", e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e...)
	}
	for i := range huge {
		huge[i] = 'z'
	}
	if err := b.CloseInput([]string{"src"}, nil); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, o := range drain(t, b) {
		got = append(got, o.Data...)
	}
	if _, err := b.Result(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("echoed %d bytes, want %d", len(got), len(want))
	}
}

func TestDoneWaitsForResponseAndEveryIsLast(t *testing.T) {
	s := startServer(t)
	responded := make(chan struct{})
	release := make(chan struct{})
	w, _ := startFakeWorker(t, s, func(f *fakeSDK) {
		f.onBundle = func(f *fakeSDK, inst string, desc *fnpb.ProcessBundleDescriptor) *fnpb.InstructionResponse {
			f.sendData(inst, "sink", []byte("a"), false)
			f.respond(&fnpb.InstructionResponse{InstructionId: inst,
				Response: &fnpb.InstructionResponse_ProcessBundle{ProcessBundle: &fnpb.ProcessBundleResponse{}}})
			close(responded)
			select {
			case <-release:
			case <-f.ctx.Done():
				return nil
			}
			f.sendData(inst, "sink", nil, true)
			f.dataMu.Lock()
			defer f.dataMu.Unlock()
			f.data.Send(&fnpb.Elements{Timers: []*fnpb.Elements_Timers{{InstructionId: inst, TransformId: "fn", TimerFamilyId: "tf", IsLast: true}}})
			return nil
		}
	})
	if err := w.Register(echoDescriptor("d1")); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	b, err := w.StartBundle(ctx, "d1", nil, ExpectOutputs{Transforms: []string{"sink"}, Timers: []TimerFamilyRef{{"fn", "tf"}}})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, responded, "the fake's response")
	// The ProcessBundle response precedes this progress response on the control
	// stream, so it has been dispatched when Progress returns.
	if _, err := b.Progress(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Done():
		t.Fatal("bundle done before is_last of its outputs")
	default:
	}
	close(release)
	outs := drain(t, b)
	if _, err := b.Result(); err != nil {
		t.Fatal(err)
	}
	var lasts []string
	for _, o := range outs {
		if o.IsLast {
			lasts = append(lasts, o.TransformID+"/"+o.TimerFamily)
		}
	}
	if strings.Join(lasts, ",") != "sink/,fn/tf" {
		t.Errorf("is_last outputs %v", lasts)
	}
}

func TestSDKErrorFailsBundle(t *testing.T) {
	s := startServer(t)
	w, _ := startFakeWorker(t, s, func(f *fakeSDK) {
		f.onBundle = func(*fakeSDK, string, *fnpb.ProcessBundleDescriptor) *fnpb.InstructionResponse {
			return &fnpb.InstructionResponse{Error: "boom: user DoFn panicked"}
		}
	})
	w.Register(echoDescriptor("d1"))
	b, err := w.StartBundle(testCtx(t), "d1", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, b.Done(), "failed bundle") // no is_last needed
	if _, err := b.Result(); err == nil || !strings.Contains(err.Error(), "boom: user DoFn panicked") {
		t.Errorf("Result error = %v, want the SDK's text", err)
	}
	select {
	case <-w.Done():
		t.Error("a bundle error ended the worker")
	default:
	}
}

func TestWorkerDisconnectFailsInflightBundle(t *testing.T) {
	s := startServer(t)
	var logs []*fnpb.LogEntry
	var logsMu sync.Mutex
	pool := startFakePool(t, nil)
	w, err := s.StartWorker(testCtx(t), WorkerConfig{JobID: "job1", Env: pool.env(), LogSink: func(e *fnpb.LogEntry) {
		logsMu.Lock()
		logs = append(logs, e)
		logsMu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop(context.Background())
	w.Register(echoDescriptor("d1"))
	b, err := w.StartBundle(testCtx(t), "d1", nil)
	if err != nil {
		t.Fatal(err)
	}
	f := pool.worker(w.ID())
	waitDone(t, chanOf(func() { <-f.received }), "ProcessBundle at the fake")
	if err := f.log("about to crash: out of memory"); err != nil {
		t.Fatal(err)
	}
	poll(t, "log line in RecentLogs", func() bool { return strings.Contains(strings.Join(w.RecentLogs(), "\n"), "about to crash") })
	f.stop() // the harness dies

	waitDone(t, b.Done(), "bundle of a dead worker")
	waitDone(t, w.Done(), "dead worker")
	_, err = b.Result()
	if err == nil || !strings.Contains(err.Error(), "about to crash: out of memory") || !strings.Contains(err.Error(), "ended") {
		t.Errorf("Result error = %v, want the cause and the worker's last log lines", err)
	}
	if werr := w.Err(); werr == nil || !strings.Contains(werr.Error(), "about to crash") {
		t.Errorf("Err() = %v", werr)
	}
	logsMu.Lock()
	if len(logs) != 1 || logs[0].GetTransformId() != "fake-transform" {
		t.Errorf("LogSink got %v", logs)
	}
	logsMu.Unlock()
	if _, err := w.StartBundle(testCtx(t), "d1", nil); err == nil {
		t.Error("StartBundle on a dead worker succeeded")
	}
}

func chanOf(f func()) <-chan struct{} {
	ch := make(chan struct{})
	go func() { f(); close(ch) }()
	return ch
}

func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stateFunc adapts a function to StateHandler.
type stateFunc func(ctx context.Context, req *fnpb.StateRequest) *fnpb.StateResponse

func (f stateFunc) HandleState(ctx context.Context, req *fnpb.StateRequest) *fnpb.StateResponse {
	return f(ctx, req)
}

func TestStateRoutedByInstructionAndConcurrent(t *testing.T) {
	s := startServer(t)
	w, _ := startFakeWorker(t, s, func(f *fakeSDK) {
		f.onBundle = func(f *fakeSDK, inst string, desc *fnpb.ProcessBundleDescriptor) *fnpb.InstructionResponse {
			resp, err := f.getState(inst, []byte("k"))
			if err != nil {
				return &fnpb.InstructionResponse{Error: err.Error()}
			}
			if resp.GetError() != "" {
				return &fnpb.InstructionResponse{Error: resp.GetError()}
			}
			f.writeOutput(inst, "sink", resp.GetGet().GetData())
			return &fnpb.InstructionResponse{Response: &fnpb.InstructionResponse_ProcessBundle{ProcessBundle: &fnpb.ProcessBundleResponse{}}}
		}
	})
	w.Register(echoDescriptor("d1"))
	ctx := testCtx(t)
	bDone := make(chan struct{})
	// A's handler blocks until B finished: a slow handler must not stall others.
	a, err := w.StartBundle(ctx, "d1", stateFunc(func(ctx context.Context, req *fnpb.StateRequest) *fnpb.StateResponse {
		select {
		case <-bDone:
		case <-ctx.Done():
		}
		return &fnpb.StateResponse{Id: "overwritten", Response: &fnpb.StateResponse_Get{Get: &fnpb.StateGetResponse{Data: []byte("A:" + req.GetInstructionId())}}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.StartBundle(ctx, "d1", stateFunc(func(ctx context.Context, req *fnpb.StateRequest) *fnpb.StateResponse {
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: &fnpb.StateGetResponse{Data: []byte("B:" + req.GetInstructionId())}}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	outB := drain(t, b)
	close(bDone)
	outA := drain(t, a)
	for _, c := range []struct {
		b    *Bundle
		out  []Output
		want string
	}{{a, outA, "A:" + a.InstructionID()}, {b, outB, "B:" + b.InstructionID()}} {
		if _, err := c.b.Result(); err != nil {
			t.Fatal(err)
		}
		var got []byte
		for _, o := range c.out {
			got = append(got, o.Data...)
		}
		if string(got) != c.want {
			t.Errorf("bundle %s saw state %q, want %q", c.b.InstructionID(), got, c.want)
		}
	}
}

func TestDescriptorEndpointsAndNotFound(t *testing.T) {
	s := startServer(t)
	w, _ := startFakeWorker(t, s, nil)
	if err := w.Register(echoDescriptor("d1")); err != nil {
		t.Fatal(err)
	}
	if err := w.Register(echoDescriptor("d1")); err == nil {
		t.Error("duplicate descriptor id accepted")
	}
	conn, err := grpc.NewClient(s.Endpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := fnpb.NewBeamFnControlClient(conn)
	ctx := metadata.AppendToOutgoingContext(testCtx(t), "worker_id", w.ID())
	desc, err := client.GetProcessBundleDescriptor(ctx, &fnpb.GetProcessBundleDescriptorRequest{ProcessBundleDescriptorId: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"src", "sink"} {
		port := &fnpb.RemoteGrpcPort{}
		if err := proto.Unmarshal(desc.GetTransforms()[id].GetSpec().GetPayload(), port); err != nil {
			t.Fatal(err)
		}
		if port.GetApiServiceDescriptor().GetUrl() != s.Endpoint() || port.GetCoderId() != "c" {
			t.Errorf("%s port = %v, want url %s", id, port, s.Endpoint())
		}
	}
	if desc.GetStateApiServiceDescriptor().GetUrl() != s.Endpoint() || desc.GetTimerApiServiceDescriptor().GetUrl() != s.Endpoint() {
		t.Errorf("state/timer descriptors = %v / %v", desc.GetStateApiServiceDescriptor(), desc.GetTimerApiServiceDescriptor())
	}
	if !strings.HasPrefix(s.Endpoint(), "127.0.0.1:") {
		t.Errorf("Endpoint() = %q", s.Endpoint())
	}

	_, err = client.GetProcessBundleDescriptor(ctx, &fnpb.GetProcessBundleDescriptorRequest{ProcessBundleDescriptorId: "nope"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("unknown descriptor: %v, want NotFound", err)
	}
	other := metadata.AppendToOutgoingContext(testCtx(t), "worker_id", "no-such-worker")
	_, err = client.GetProcessBundleDescriptor(other, &fnpb.GetProcessBundleDescriptorRequest{ProcessBundleDescriptorId: "d1"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("unknown worker: %v, want NotFound", err)
	}

	info, err := fnpb.NewProvisionServiceClient(conn).GetProvisionInfo(ctx, &fnpb.GetProvisionInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetInfo().GetControlEndpoint().GetUrl() != s.Endpoint() || info.GetInfo().GetLoggingEndpoint().GetUrl() != s.Endpoint() {
		t.Errorf("provision info = %v", info)
	}
	for _, c := range info.GetInfo().GetRunnerCapabilities() {
		if strings.Contains(c, "monitoring_info_short_ids") {
			t.Errorf("advertised %s", c)
		}
	}
}

func TestStartBundleCancel(t *testing.T) {
	s := startServer(t)
	w, _ := startFakeWorker(t, s, nil) // echo waits for input that never comes
	w.Register(echoDescriptor("d1"))
	ctx, cancel := context.WithCancel(testCtx(t))
	b, err := w.StartBundle(ctx, "d1", nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	waitDone(t, b.Done(), "canceled bundle")
	if _, err := b.Result(); !errors.Is(err, context.Canceled) {
		t.Errorf("Result error = %v, want context.Canceled", err)
	}
	if err := b.Send("src", []byte("x")); err == nil {
		t.Error("Send on a canceled bundle succeeded")
	}
}

func TestDockerEnvironmentRefused(t *testing.T) {
	s := startServer(t)
	_, err := s.StartWorker(testCtx(t), WorkerConfig{JobID: "j", Env: &pipepb.Environment{Urn: URNEnvDocker}})
	if !errors.Is(err, ErrDockerUnavailable) || !strings.Contains(err.Error(), "LOOPBACK or PROCESS") {
		t.Errorf("err = %v", err)
	}
	s.mu.Lock()
	n := len(s.workers)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("%d workers left registered", n)
	}
}

// TestStopLeavesNoGoroutines runs a full worker cycle twice and checks that the
// second leaves no goroutine behind.
func TestStopLeavesNoGoroutines(t *testing.T) {
	cycle := func() {
		s := NewServer(ServerConfig{Logger: testLogger()})
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		pool := startFakePool(t, nil)
		w, err := s.StartWorker(testCtx(t), WorkerConfig{JobID: "j", Env: pool.env()})
		if err != nil {
			t.Fatal(err)
		}
		w.Register(echoDescriptor("d1"))
		b, err := w.StartBundle(testCtx(t), "d1", stateFunc(func(context.Context, *fnpb.StateRequest) *fnpb.StateResponse { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		b.Send("src", []byte("abc"))
		b.CloseInput([]string{"src"}, nil)
		drain(t, b)
		// A second bundle is left in flight: Stop must release it.
		b2, err := w.StartBundle(testCtx(t), "d1", nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Stop()
		waitDone(t, b2.Done(), "in-flight bundle at Stop")
		waitDone(t, w.Done(), "worker at Stop")
		pool.close()
	}
	cycle()
	settle := func() int {
		time.Sleep(50 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	base := settle()
	cycle()
	deadline := time.Now().Add(5 * time.Second)
	n := settle()
	for n > base && time.Now().Before(deadline) {
		n = settle()
	}
	if n > base {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Stop, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

func TestStateForUnknownInstructionIsAnError(t *testing.T) {
	s := startServer(t)
	w, pool := startFakeWorker(t, s, nil)
	resp, err := pool.worker(w.ID()).getState("no-such-instruction", []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.GetError(), "no-such-instruction") {
		t.Errorf("response = %v, want an error naming the instruction", resp)
	}
}
