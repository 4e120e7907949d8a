package native

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-runner/sluice/codegen/native/protocol"
	"github.com/sluice-runner/sluice/codegen/rt"
	"github.com/sluice-runner/sluice/runner/wire"
)

// dataBufferBytes is the size of the connection's read and write buffers.
const dataBufferBytes = 1 << 20

// connectWithin bounds how long the harness keeps retrying its control stream: the
// runner registers the native worker id only after the SDK harness connected, which this
// harness starts before.
const connectWithin = 30 * time.Second

// Harness is one native harness: a Fn API client of the runner running the stages of
// the chains registered in codegen/rt.
type Harness struct {
	// WorkerID is the SDK worker's id plus protocol.WorkerSuffix.
	WorkerID string
	// Endpoint is the runner's Fn API (host:port).
	Endpoint string
	// Fingerprints are the chains announced to the runner; Portable the stages the
	// generated file knows but has no chain for, with why.
	Fingerprints []string
	Portable     map[string]string

	client fnpb.BeamFnControlClient
	ctrl   sendStream[*fnpb.InstructionResponse]
	data   sendStream[*fnpb.Elements]
	state  *stateClient // side inputs: see state.go
	inbox  inboxes
	wg     sync.WaitGroup

	mu     sync.Mutex
	stages map[string]*stagePool // by descriptor id
	// splitters are the running bundles that can split, by instruction id.
	splitters map[string]rt.Splitter
}

// sendStream serializes sends on one gRPC stream.
type sendStream[T any] struct {
	mu   sync.Mutex
	send func(T) error
}

func (s *sendStream[T]) Send(m T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.send(m)
}

// Run connects and serves until ctx ends or the runner closes the control stream; it
// waits for the goroutines it started.
func (h *Harness) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h.stages = map[string]*stagePool{}
	h.splitters = map[string]rt.Splitter{}
	h.inbox.init()
	conn, err := grpc.NewClient(h.Endpoint,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)),
		// Buffers of a MiB, as the runner's (fnharness.ServerOptions): element data
		// crosses in messages of a MiB or more.
		grpc.WithReadBufferSize(dataBufferBytes), grpc.WithWriteBufferSize(dataBufferBytes), grpc.WithSharedWriteBuffer(true))
	if err != nil {
		return fmt.Errorf("dialing the runner at %s: %w", h.Endpoint, err)
	}
	defer conn.Close()
	// The SDK harness's context carries its own worker_id: replace, not append.
	ctx = metadata.NewOutgoingContext(ctx, metadata.Pairs("worker_id", h.WorkerID))
	h.client = fnpb.NewBeamFnControlClient(conn)
	ctrl, err := h.connectControl(ctx)
	if err != nil {
		return err
	}
	h.ctrl.send = ctrl.Send
	data, err := fnpb.NewBeamFnDataClient(conn).Data(ctx)
	if err != nil {
		return fmt.Errorf("opening the data stream: %w", err)
	}
	h.data.send = data.Send
	// The State stream serves side inputs. The runner may not serve it (another runner, a
	// fake in tests): only bundles reading side inputs then fail, so its failure is not
	// the harness's.
	h.state = newStateClient(func(*fnpb.StateRequest) error { return errors.New("the state stream is not open") })
	stateStream, err := fnpb.NewBeamFnStateClient(conn).State(ctx)
	if err != nil {
		h.state.close(fmt.Errorf("opening the state stream: %w", err))
	} else {
		h.state.send.send = stateStream.Send
	}
	// On return: cancel first (ending the data loop and the bundles), then wait for them,
	// then tear the pooled stages down.
	defer h.teardownAll()
	defer h.wg.Wait()
	defer cancel()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.receiveData(data)
		cancel() // a lost data stream ends the harness: bundles could not finish
	}()
	if stateStream != nil {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.state.receive(stateStream.Recv)
		}()
	}
	for {
		req, err := ctrl.Recv()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled {
				return nil
			}
			return fmt.Errorf("control stream: %w", err)
		}
		h.handle(ctx, req)
	}
}

// connectControl opens the control stream, retrying while the runner does not know the
// worker id yet.
func (h *Harness) connectControl(ctx context.Context) (fnpb.BeamFnControl_ControlClient, error) {
	kv := []string{protocol.FingerprintsKey, strings.Join(h.Fingerprints, ","), protocol.CapabilitiesKey, protocol.CapabilitySideInputs,
		protocol.CapabilitiesKey, protocol.CapabilityUserState, protocol.CapabilitiesKey, protocol.CapabilityTimers,
		protocol.CapabilitiesKey, protocol.CapabilityGroupState}
	for _, fp := range slices.Sorted(maps.Keys(h.Portable)) {
		kv = append(kv, protocol.PortableKey, fp+" "+h.Portable[fp])
	}
	cctx := metadata.AppendToOutgoingContext(ctx, kv...)
	deadline := time.Now().Add(connectWithin)
	// The runner registers this harness's worker id once the SDK harness next to it has
	// connected, which is a few milliseconds after this harness starts, and the job waits
	// for this connection: the first retries come quickly.
	for wait := 2 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		stream, err := h.client.Control(cctx)
		if err == nil {
			// The runner sends headers once it attached the stream; a stream it refused
			// (NotFound: the worker id is not registered yet) ends without any, and
			// the receive says why.
			var hdr metadata.MD
			if hdr, err = stream.Header(); err == nil && hdr.Len() > 0 {
				return stream, nil
			}
			if err == nil {
				_, err = stream.Recv()
			}
		}
		if status.Code(err) != codes.NotFound || time.Now().After(deadline) {
			return nil, fmt.Errorf("opening the control stream to %s as %s: %w", h.Endpoint, h.WorkerID, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// handle answers one instruction; bundles run on their own goroutines.
func (h *Harness) handle(ctx context.Context, req *fnpb.InstructionRequest) {
	id := req.GetInstructionId()
	switch r := req.GetRequest().(type) {
	case *fnpb.InstructionRequest_ProcessBundle:
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			resp, err := h.processBundle(ctx, id, r.ProcessBundle)
			h.respond(id, &fnpb.InstructionResponse{Response: &fnpb.InstructionResponse_ProcessBundle{ProcessBundle: resp}}, err)
		}()
	case *fnpb.InstructionRequest_Register:
		h.respond(id, &fnpb.InstructionResponse{Response: &fnpb.InstructionResponse_Register{Register: &fnpb.RegisterResponse{}}}, nil)
	case *fnpb.InstructionRequest_ProcessBundleProgress:
		h.respond(id, &fnpb.InstructionResponse{Response: &fnpb.InstructionResponse_ProcessBundleProgress{ProcessBundleProgress: &fnpb.ProcessBundleProgressResponse{}}}, nil)
	case *fnpb.InstructionRequest_ProcessBundleSplit:
		resp, err := h.split(r.ProcessBundleSplit)
		h.respond(id, &fnpb.InstructionResponse{Response: &fnpb.InstructionResponse_ProcessBundleSplit{ProcessBundleSplit: resp}}, err)
	case *fnpb.InstructionRequest_HarnessMonitoringInfos:
		h.respond(id, &fnpb.InstructionResponse{Response: &fnpb.InstructionResponse_HarnessMonitoringInfos{HarnessMonitoringInfos: &fnpb.HarnessMonitoringInfosResponse{}}}, nil)
	default:
		h.respond(id, nil, fmt.Errorf("the sluice native harness does not handle %T instructions", r))
	}
}

// split answers a split request: the bundle's chain splits its restriction in progress
// if it can (rt.Splitter); an empty response says the bundle runs whole.
func (h *Harness) split(req *fnpb.ProcessBundleSplitRequest) (*fnpb.ProcessBundleSplitResponse, error) {
	h.mu.Lock()
	s := h.splitters[req.GetInstructionId()]
	h.mu.Unlock()
	fraction := -1.0
	for _, d := range req.GetDesiredSplits() {
		fraction = d.GetFractionOfRemainder()
	}
	if s == nil || fraction <= 0 || fraction >= 1 {
		return &fnpb.ProcessBundleSplitResponse{}, nil
	}
	residual, err := s.Split(fraction)
	if err != nil || residual == nil {
		return &fnpb.ProcessBundleSplitResponse{}, err
	}
	return &fnpb.ProcessBundleSplitResponse{ResidualRoots: []*fnpb.DelayedBundleApplication{
		{Application: &fnpb.BundleApplication{Element: residual}},
	}}, nil
}

// trackSplitter makes b's splits reachable by instruction id while it runs; the returned
// func forgets it.
func (h *Harness) trackSplitter(id string, b rt.Bundle) func() {
	s, ok := b.(rt.Splitter)
	if !ok {
		return func() {}
	}
	h.mu.Lock()
	h.splitters[id] = s
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		delete(h.splitters, id)
		h.mu.Unlock()
	}
}

func (h *Harness) respond(id string, resp *fnpb.InstructionResponse, err error) {
	if resp == nil {
		resp = &fnpb.InstructionResponse{}
	}
	resp.InstructionId = id
	if err != nil {
		resp.Error = err.Error()
		resp.Response = nil
	}
	// A failed send means the control stream is gone; Run notices on its receive.
	_ = h.ctrl.Send(resp)
}

// receiveData routes incoming element blocks to their bundles' inboxes until the stream ends.
func (h *Harness) receiveData(stream fnpb.BeamFnData_DataClient) {
	defer h.inbox.closeAll(errors.New("the data stream ended"))
	for {
		msg, err := stream.Recv()
		if err != nil {
			return
		}
		// The SDK harness processes a message's timers before its data.
		for _, t := range msg.GetTimers() {
			h.inbox.get(t.GetInstructionId()).putTimers(t.GetTransformId(), t.GetTimerFamilyId(), t.GetTimers())
		}
		for _, d := range msg.GetData() {
			h.inbox.get(d.GetInstructionId()).put(d.GetData(), d.GetIsLast())
		}
	}
}

// stagePool keeps set-up instances of one descriptor's chain.
type stagePool struct {
	spec    protocol.Stage
	factory rt.StageFactory
	env     *stageEnv
	input   *bundleInput
	mu      sync.Mutex
	free    []rt.Stage
}

// parDoURN is the URN of a ParDo, whose inputs are its main input and its side inputs.
const parDoURN = "beam:transform:pardo:v1"

// stageEnv serves a native stage's descriptor to its chain's factory (rt.StageEnv).
type stageEnv struct {
	desc   *fnpb.ProcessBundleDescriptor
	spec   protocol.Stage
	byName map[string]*pipepb.PTransform
}

func newStageEnv(desc *fnpb.ProcessBundleDescriptor, spec protocol.Stage) *stageEnv {
	e := &stageEnv{desc: desc, spec: spec, byName: map[string]*pipepb.PTransform{}}
	for _, t := range desc.GetTransforms() {
		e.byName[t.GetUniqueName()] = t
	}
	return e
}

func (e *stageEnv) Payload(name string) ([]byte, error) {
	t, ok := e.byName[name]
	if !ok {
		return nil, fmt.Errorf("the runner's descriptor has no transform %q", name)
	}
	return t.GetSpec().GetPayload(), nil
}

func (e *stageEnv) TransformID(name string) (string, error) {
	for id, t := range e.desc.GetTransforms() {
		if t.GetUniqueName() == name {
			return id, nil
		}
	}
	return "", fmt.Errorf("the runner's descriptor has no transform %q", name)
}

func (e *stageEnv) InputCoder() (*coder.Coder, error) { return e.portCoder(e.spec.Source) }

func (e *stageEnv) OutputCoder(i int) (*coder.Coder, error) {
	if i < 0 || i >= len(e.spec.Sinks) {
		return nil, fmt.Errorf("the stage has %d outputs, not %d", len(e.spec.Sinks), i+1)
	}
	return e.portCoder(e.spec.Sinks[i])
}

func (e *stageEnv) TransformCoder(name string, output bool) (*coder.Coder, error) {
	t, ok := e.byName[name]
	if !ok {
		return nil, fmt.Errorf("the runner's descriptor has no transform %q", name)
	}
	pcs := t.GetInputs()
	if output {
		pcs = t.GetOutputs()
	} else if len(pcs) > 1 && t.GetSpec().GetUrn() == parDoURN {
		var pd pipepb.ParDoPayload
		if err := proto.Unmarshal(t.GetSpec().GetPayload(), &pd); err != nil {
			return nil, fmt.Errorf("transform %q: bad ParDo payload: %w", name, err)
		}
		main := maps.Clone(pcs)
		for local := range pd.GetSideInputs() {
			delete(main, local)
		}
		pcs = main
	}
	if len(pcs) != 1 {
		return nil, fmt.Errorf("transform %q has %d PCollections there, want 1", name, len(pcs))
	}
	var id string
	for _, pc := range pcs {
		id = pc
	}
	cid := e.desc.GetPcollections()[id].GetCoderId()
	c, err := graphx.NewCoderUnmarshaller(e.desc.GetCoders()).Coder(cid)
	if err != nil {
		return nil, fmt.Errorf("the coder %q of PCollection %q: %w", cid, id, err)
	}
	return c, nil
}

func (e *stageEnv) Coder(id string) (*coder.Coder, error) {
	c, err := graphx.NewCoderUnmarshaller(e.desc.GetCoders()).Coder(id)
	if err != nil {
		return nil, fmt.Errorf("the coder %q: %w", id, err)
	}
	return c, nil
}

// bundleInput is how bundles read the input port: its headers' decoder (the global
// window's, or the interval windows', rt.HeaderDecoder) and its wire codec.
func (e *stageEnv) bundleInput() (*bundleInput, error) {
	c, err := e.InputCoder()
	if err != nil {
		return nil, err
	}
	if c.Kind != coder.WindowedValue {
		return nil, fmt.Errorf("the input coder %v is not a windowed value coder", c)
	}
	header, err := rt.HeaderDecoder(c.Window)
	if err != nil {
		return nil, err
	}
	in := &bundleInput{header: header}
	id, err := e.portCoderID(e.spec.Source)
	if err == nil {
		in.codec, err = wire.NewWindowedValueCodec(&pipepb.Components{Coders: e.desc.GetCoders()}, id)
	}
	in.codecErr = err
	in.grouped = newGroupedInput(in.codec)
	return in, nil
}

// portCoder is the coder of a data source or sink transform's RemoteGrpcPort.
func (e *stageEnv) portCoder(transformID string) (*coder.Coder, error) {
	id, err := e.portCoderID(transformID)
	if err != nil {
		return nil, err
	}
	c, err := graphx.NewCoderUnmarshaller(e.desc.GetCoders()).Coder(id)
	if err != nil {
		return nil, fmt.Errorf("the coder %q of transform %q: %w", id, transformID, err)
	}
	return c, nil
}

// portCoderID is the coder id of a data source or sink transform's RemoteGrpcPort.
func (e *stageEnv) portCoderID(transformID string) (string, error) {
	var port fnpb.RemoteGrpcPort
	if err := proto.Unmarshal(e.desc.GetTransforms()[transformID].GetSpec().GetPayload(), &port); err != nil {
		return "", fmt.Errorf("the port of transform %q: %w", transformID, err)
	}
	return port.GetCoderId(), nil
}

func (p *stagePool) get() (rt.Stage, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return s, nil
	}
	p.mu.Unlock()
	return p.factory(p.env)
}

func (p *stagePool) put(s rt.Stage) {
	p.mu.Lock()
	p.free = append(p.free, s)
	p.mu.Unlock()
}

// pool returns the stage pool of a descriptor, fetching the descriptor on first use.
func (h *Harness) pool(ctx context.Context, descID string) (*stagePool, error) {
	h.mu.Lock()
	p := h.stages[descID]
	h.mu.Unlock()
	if p != nil {
		return p, nil
	}
	desc, err := h.client.GetProcessBundleDescriptor(ctx, &fnpb.GetProcessBundleDescriptorRequest{ProcessBundleDescriptorId: descID})
	if err != nil {
		return nil, fmt.Errorf("fetching descriptor %q: %w", descID, err)
	}
	var spec protocol.Stage
	found := false
	for _, t := range desc.GetTransforms() {
		if t.GetSpec().GetUrn() == protocol.StageURN {
			if spec, err = protocol.UnmarshalStage(t.GetSpec().GetPayload()); err != nil {
				return nil, fmt.Errorf("descriptor %q: %w", descID, err)
			}
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("descriptor %q has no %s transform: it is not a native stage", descID, protocol.StageURN)
	}
	f, ok := rt.LookupStage(spec.Fingerprint)
	if !ok {
		return nil, fmt.Errorf("stage %s: this binary carries no chain with fingerprint %s", spec.Name, spec.Fingerprint)
	}
	env := newStageEnv(desc, spec)
	input, err := env.bundleInput()
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", spec.Name, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if p = h.stages[descID]; p == nil {
		p = &stagePool{spec: spec, factory: f, env: env, input: input}
		h.stages[descID] = p
	}
	return p, nil
}

// teardownAll tears down every pooled stage instance; Run calls it once no bundle runs.
func (h *Harness) teardownAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.stages {
		for _, s := range p.free {
			_ = s.Teardown() // the harness is ending; nobody to tell
		}
		p.free = nil
	}
}
