package native

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
)

// fakeState serves side inputs as the runner does: each key's values in pages of
// pageSize bytes, a continuation token naming the next page's offset; unknown keys are
// an error response. Each response is sent from its own goroutine, so they may go out
// in another order than the requests came: the client must match them by id.
type fakeState struct {
	fnpb.UnimplementedBeamFnStateServer
	values   map[string][]byte // by side input id (iterable) or id/key (multimap)
	pageSize int
	mu       sync.Mutex
	requests []*fnpb.StateRequest
	sendMu   sync.Mutex // gRPC allows one sender at a time
}

func (f *fakeState) State(stream fnpb.BeamFnState_StateServer) error {
	for {
		req, err := stream.Recv()
		if err != nil {
			return nil
		}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.mu.Unlock()
		go func() {
			resp := f.answer(req)
			f.sendMu.Lock()
			defer f.sendMu.Unlock()
			_ = stream.Send(resp)
		}()
	}
}

func (f *fakeState) answer(req *fnpb.StateRequest) *fnpb.StateResponse {
	var name string
	switch k := req.GetStateKey().GetType().(type) {
	case *fnpb.StateKey_IterableSideInput_:
		name = k.IterableSideInput.GetTransformId() + "/" + k.IterableSideInput.GetSideInputId()
	case *fnpb.StateKey_MultimapSideInput_:
		name = k.MultimapSideInput.GetTransformId() + "/" + k.MultimapSideInput.GetSideInputId() + "/" + string(k.MultimapSideInput.GetKey())
	}
	v, ok := f.values[name]
	if !ok || req.GetInstructionId() == "" {
		return &fnpb.StateResponse{Id: req.GetId(), Error: "no side input " + name}
	}
	off := 0
	if tok := req.GetGet().GetContinuationToken(); len(tok) > 0 {
		off, _ = strconv.Atoi(string(tok))
	}
	end := min(off+f.pageSize, len(v))
	get := &fnpb.StateGetResponse{Data: v[off:end]}
	if end < len(v) {
		get.ContinuationToken = []byte(strconv.Itoa(end))
	}
	return &fnpb.StateResponse{Id: req.GetId(), Response: &fnpb.StateResponse_Get{Get: get}}
}

// stateClientOf connects a stateClient to srv over an in-memory listener.
func stateClientOf(t *testing.T, srv fnpb.BeamFnStateServer) (*stateClient, func()) {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	g := grpc.NewServer()
	fnpb.RegisterBeamFnStateServer(g, srv)
	go func() { _ = g.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := fnpb.NewBeamFnStateClient(conn).State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := newStateClient(stream.Send)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.receive(stream.Recv)
	}()
	return c, func() {
		cancel()
		<-done
		conn.Close()
		g.Stop()
	}
}

func TestStateClientPagesAndMultiplexes(t *testing.T) {
	big := []byte(strings.Repeat("0123456789", 100))
	f := &fakeState{pageSize: 64, values: map[string][]byte{
		"t1/i1":       big,
		"t1/i2":       {},
		"t1/i3/\x01k": []byte("values of k"),
	}}
	c, stop := stateClientOf(t, f)
	defer stop()
	r := bundleSideInputs{c: c, instruction: "b1"}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 { // concurrent bundles' requests share the stream
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := r.Iterable(ctx, "t1", "i1", nil)
			if err != nil || string(got) != string(big) {
				t.Errorf("Iterable i1 = %d bytes, %v; want %d bytes", len(got), err, len(big))
			}
		}()
	}
	wg.Wait()
	if got, err := r.Iterable(ctx, "t1", "i2", nil); err != nil || len(got) != 0 {
		t.Errorf("empty side input = %q, %v", got, err)
	}
	if got, err := r.Multimap(ctx, "t1", "i3", []byte("\x01k"), nil); err != nil || string(got) != "values of k" {
		t.Errorf("Multimap = %q, %v", got, err)
	}
	pages := (len(big) + f.pageSize - 1) / f.pageSize
	f.mu.Lock()
	n := len(f.requests)
	for _, req := range f.requests {
		if req.GetInstructionId() != "b1" {
			t.Errorf("request under instruction %q, want b1", req.GetInstructionId())
		}
	}
	f.mu.Unlock()
	if want := 8*pages + 2; n != want {
		t.Errorf("%d requests, want %d (%d pages per read of i1)", n, want, pages)
	}
}

func TestStateClientErrors(t *testing.T) {
	f := &fakeState{pageSize: 8, values: map[string][]byte{"t1/i1": []byte("abc")}}
	c, stop := stateClientOf(t, f)
	ctx := context.Background()
	// The runner's error response is the read's error.
	if _, err := (bundleSideInputs{c: c, instruction: "b1"}).Iterable(ctx, "t1", "nope", nil); err == nil || !strings.Contains(err.Error(), "no side input t1/nope") {
		t.Errorf("unknown side input: err %v", err)
	}
	// A read after an error still works: the stream is fine.
	if got, err := (bundleSideInputs{c: c, instruction: "b1"}).Iterable(ctx, "t1", "i1", nil); err != nil || string(got) != "abc" {
		t.Errorf("after an error: %q, %v", got, err)
	}
	// A canceled bundle's read returns at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := (bundleSideInputs{c: c, instruction: "b1"}).Iterable(cctx, "t1", "i1", nil); err == nil {
		t.Error("a canceled read succeeded")
	}
	// Once the stream ends, every read fails.
	stop()
	if _, err := (bundleSideInputs{c: c, instruction: "b1"}).Iterable(ctx, "t1", "i1", nil); err == nil || !strings.Contains(err.Error(), "state stream ended") {
		t.Errorf("after the stream ended: err %v", err)
	}
}
