package fnharness

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// fakeSDK is a minimal Fn API client standing in for an SDK harness. By default
// it echoes each bundle's input on the descriptor's first source to its first
// sink, in chunks of chunk bytes, then sends is_last and the response.
type fakeSDK struct {
	id       string
	endpoint string
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	// Behaviour, set before run.
	chunk    int
	onBundle func(f *fakeSDK, instID string, desc *fnpb.ProcessBundleDescriptor) *fnpb.InstructionResponse

	conn   *grpc.ClientConn
	ctrlMu sync.Mutex
	ctrl   fnpb.BeamFnControl_ControlClient
	dataMu sync.Mutex
	data   fnpb.BeamFnData_DataClient
	stMu   sync.Mutex
	state  fnpb.BeamFnState_StateClient
	logMu  sync.Mutex
	logs   fnpb.BeamFnLogging_LoggingClient

	mu        sync.Mutex
	inputs    map[string]chan *fnpb.Elements_Data
	stateWait map[string]chan *fnpb.StateResponse
	nextState int
	received  chan string // instruction ids of ProcessBundle requests
}

func newFakeSDK(id, endpoint string) *fakeSDK {
	ctx, cancel := context.WithCancel(context.Background())
	return &fakeSDK{
		id: id, endpoint: endpoint, ctx: metadata.AppendToOutgoingContext(ctx, "worker_id", id), cancel: cancel,
		chunk:     4,
		inputs:    map[string]chan *fnpb.Elements_Data{},
		stateWait: map[string]chan *fnpb.StateResponse{},
		received:  make(chan string, 1024),
	}
}

// start connects every stream and serves the control stream until stop.
func (f *fakeSDK) start() error {
	conn, err := grpc.NewClient(f.endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	f.conn = conn
	if f.logs, err = fnpb.NewBeamFnLoggingClient(conn).Logging(f.ctx); err != nil {
		return err
	}
	if f.data, err = fnpb.NewBeamFnDataClient(conn).Data(f.ctx); err != nil {
		return err
	}
	if f.state, err = fnpb.NewBeamFnStateClient(conn).State(f.ctx); err != nil {
		return err
	}
	if f.ctrl, err = fnpb.NewBeamFnControlClient(conn).Control(f.ctx); err != nil {
		return err
	}
	f.wg.Add(3)
	go func() { defer f.wg.Done(); f.readData() }()
	go func() { defer f.wg.Done(); f.readState() }()
	go func() { defer f.wg.Done(); f.serveControl() }()
	return nil
}

// stop tears the fake down, like a harness dying; it waits for its goroutines.
func (f *fakeSDK) stop() {
	f.cancel()
	if f.conn != nil {
		f.conn.Close()
	}
	f.wg.Wait()
}

func (f *fakeSDK) serveControl() {
	for {
		req, err := f.ctrl.Recv()
		if err != nil {
			return
		}
		switch {
		case req.GetProcessBundle() != nil:
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				desc, err := fnpb.NewBeamFnControlClient(f.conn).GetProcessBundleDescriptor(f.ctx,
					&fnpb.GetProcessBundleDescriptorRequest{ProcessBundleDescriptorId: req.GetProcessBundle().GetProcessBundleDescriptorId()})
				f.received <- req.GetInstructionId() // after the descriptor fetch
				var resp *fnpb.InstructionResponse
				if err != nil {
					resp = &fnpb.InstructionResponse{Error: err.Error()}
				} else if f.onBundle != nil {
					resp = f.onBundle(f, req.GetInstructionId(), desc)
				} else {
					resp = f.echo(req.GetInstructionId(), desc)
				}
				if resp == nil {
					return
				}
				resp.InstructionId = req.GetInstructionId()
				f.respond(resp)
			}()
		case req.GetProcessBundleProgress() != nil:
			f.respond(&fnpb.InstructionResponse{InstructionId: req.GetInstructionId(),
				Response: &fnpb.InstructionResponse_ProcessBundleProgress{ProcessBundleProgress: &fnpb.ProcessBundleProgressResponse{}}})
		case req.GetProcessBundleSplit() != nil:
			f.respond(&fnpb.InstructionResponse{InstructionId: req.GetInstructionId(),
				Response: &fnpb.InstructionResponse_ProcessBundleSplit{ProcessBundleSplit: &fnpb.ProcessBundleSplitResponse{
					ChannelSplits: []*fnpb.ProcessBundleSplitResponse_ChannelSplit{{TransformId: "split-of-" + req.GetProcessBundleSplit().GetInstructionId()}},
				}}})
		case req.GetFinalizeBundle() != nil:
			f.respond(&fnpb.InstructionResponse{InstructionId: req.GetInstructionId(),
				Response: &fnpb.InstructionResponse_FinalizeBundle{FinalizeBundle: &fnpb.FinalizeBundleResponse{}}})
		default:
			f.respond(&fnpb.InstructionResponse{InstructionId: req.GetInstructionId(), Error: "unsupported"})
		}
	}
}

func (f *fakeSDK) respond(resp *fnpb.InstructionResponse) {
	f.ctrlMu.Lock()
	defer f.ctrlMu.Unlock()
	_ = f.ctrl.Send(resp)
}

func (f *fakeSDK) inputChan(inst string) chan *fnpb.Elements_Data {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.inputs[inst]
	if ch == nil {
		ch = make(chan *fnpb.Elements_Data, 1024)
		f.inputs[inst] = ch
	}
	return ch
}

func (f *fakeSDK) readData() {
	for {
		msg, err := f.data.Recv()
		if err != nil {
			return
		}
		for _, d := range msg.GetData() {
			f.inputChan(d.GetInstructionId()) <- d
		}
	}
}

func (f *fakeSDK) readState() {
	for {
		resp, err := f.state.Recv()
		if err != nil {
			return
		}
		f.mu.Lock()
		ch := f.stateWait[resp.GetId()]
		delete(f.stateWait, resp.GetId())
		f.mu.Unlock()
		if ch != nil {
			ch <- resp
		}
	}
}

// readInput returns the concatenated input of transform for inst, up to is_last.
func (f *fakeSDK) readInput(inst, transform string) ([]byte, error) {
	var buf []byte
	ch := f.inputChan(inst)
	for {
		select {
		case d := <-ch:
			if d.GetTransformId() != transform {
				return nil, fmt.Errorf("input for unexpected transform %q", d.GetTransformId())
			}
			buf = append(buf, d.GetData()...)
			if d.GetIsLast() {
				return buf, nil
			}
		case <-f.ctx.Done():
			return nil, f.ctx.Err()
		}
	}
}

func (f *fakeSDK) sendData(inst, transform string, data []byte, last bool) error {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	return f.data.Send(&fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: inst, TransformId: transform, Data: data, IsLast: last}}})
}

// writeOutput sends data to transform in chunks, one message each, then is_last.
func (f *fakeSDK) writeOutput(inst, transform string, data []byte) error {
	for len(data) > 0 {
		n := min(f.chunk, len(data))
		if err := f.sendData(inst, transform, data[:n], false); err != nil {
			return err
		}
		data = data[n:]
	}
	return f.sendData(inst, transform, nil, true)
}

// getState sends a state request for inst and waits for the response.
func (f *fakeSDK) getState(inst string, key []byte) (*fnpb.StateResponse, error) {
	f.mu.Lock()
	f.nextState++
	id := fmt.Sprintf("st-%d", f.nextState)
	ch := make(chan *fnpb.StateResponse, 1)
	f.stateWait[id] = ch
	f.mu.Unlock()
	f.stMu.Lock()
	err := f.state.Send(&fnpb.StateRequest{Id: id, InstructionId: inst,
		StateKey: &fnpb.StateKey{Type: &fnpb.StateKey_Runner_{Runner: &fnpb.StateKey_Runner{Key: key}}},
		Request:  &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}})
	f.stMu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-f.ctx.Done():
		return nil, f.ctx.Err()
	}
}

func (f *fakeSDK) log(msg string) error {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.logs.Send(&fnpb.LogEntry_List{LogEntries: []*fnpb.LogEntry{{
		Severity: fnpb.LogEntry_Severity_INFO, Message: msg, TransformId: "fake-transform",
	}}})
}

func (f *fakeSDK) echo(inst string, desc *fnpb.ProcessBundleDescriptor) *fnpb.InstructionResponse {
	src, sink := DataSources(desc)[0], DataSinks(desc)[0]
	in, err := f.readInput(inst, src)
	if f.ctx.Err() != nil {
		return nil // dying: a real harness would not answer either
	}
	if err != nil {
		return &fnpb.InstructionResponse{Error: err.Error()}
	}
	if err := f.writeOutput(inst, sink, in); err != nil {
		return &fnpb.InstructionResponse{Error: err.Error()}
	}
	return &fnpb.InstructionResponse{Response: &fnpb.InstructionResponse_ProcessBundle{ProcessBundle: &fnpb.ProcessBundleResponse{}}}
}

// fakePool is a BeamFnExternalWorkerPool that starts fakeSDKs.
type fakePool struct {
	fnpb.UnimplementedBeamFnExternalWorkerPoolServer
	configure func(*fakeSDK)
	srv       *grpc.Server
	lis       net.Listener
	served    chan struct{}

	mu      sync.Mutex
	workers map[string]*fakeSDK
	stopped []string
}

func startFakePool(t *testing.T, configure func(*fakeSDK)) *fakePool {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePool{configure: configure, srv: grpc.NewServer(), lis: lis, workers: map[string]*fakeSDK{}, served: make(chan struct{})}
	fnpb.RegisterBeamFnExternalWorkerPoolServer(p.srv, p)
	go func() { defer close(p.served); p.srv.Serve(lis) }()
	t.Cleanup(p.close)
	return p
}

func (p *fakePool) close() {
	p.srv.Stop()
	<-p.served
	p.mu.Lock()
	ws := p.workers
	p.workers = map[string]*fakeSDK{}
	p.mu.Unlock()
	for _, f := range ws {
		f.stop()
	}
}

func (p *fakePool) env() *pipepb.Environment {
	payload, _ := proto.Marshal(&pipepb.ExternalPayload{Endpoint: &pipepb.ApiServiceDescriptor{Url: p.lis.Addr().String()}})
	return &pipepb.Environment{Urn: URNEnvExternal, Payload: payload}
}

func (p *fakePool) worker(id string) *fakeSDK {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.workers[id]
}

func (p *fakePool) StartWorker(_ context.Context, req *fnpb.StartWorkerRequest) (*fnpb.StartWorkerResponse, error) {
	f := newFakeSDK(req.GetWorkerId(), req.GetControlEndpoint().GetUrl())
	if p.configure != nil {
		p.configure(f)
	}
	if err := f.start(); err != nil {
		f.stop()
		return &fnpb.StartWorkerResponse{Error: err.Error()}, nil
	}
	p.mu.Lock()
	p.workers[req.GetWorkerId()] = f
	p.mu.Unlock()
	return &fnpb.StartWorkerResponse{}, nil
}

func (p *fakePool) StopWorker(_ context.Context, req *fnpb.StopWorkerRequest) (*fnpb.StopWorkerResponse, error) {
	p.mu.Lock()
	f := p.workers[req.GetWorkerId()]
	delete(p.workers, req.GetWorkerId())
	p.stopped = append(p.stopped, req.GetWorkerId())
	p.mu.Unlock()
	if f != nil {
		f.stop()
	}
	return &fnpb.StopWorkerResponse{}, nil
}
