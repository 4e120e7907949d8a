package fnharness

import (
	"context"
	"errors"
	"sync"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The gRPC service adapters only find the worker by its worker_id metadata and
// hand the stream over; the worker owns everything else.

type controlService struct {
	fnpb.UnimplementedBeamFnControlServer
	s *Server
}

func (c *controlService) Control(stream fnpb.BeamFnControl_ControlServer) error {
	w, err := c.s.workerFor(stream.Context())
	if err != nil {
		return err
	}
	return w.serveControl(stream)
}

func (c *controlService) GetProcessBundleDescriptor(ctx context.Context, req *fnpb.GetProcessBundleDescriptorRequest) (*fnpb.ProcessBundleDescriptor, error) {
	w, err := c.s.workerFor(ctx)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	desc := w.descs[req.GetProcessBundleDescriptorId()]
	w.mu.Unlock()
	if desc == nil {
		return nil, status.Errorf(codes.NotFound, "fnharness: worker %q has no process bundle descriptor %q", w.id, req.GetProcessBundleDescriptorId())
	}
	return desc, nil
}

type dataService struct {
	fnpb.UnimplementedBeamFnDataServer
	s *Server
}

func (d *dataService) Data(stream fnpb.BeamFnData_DataServer) error {
	w, err := d.s.workerFor(stream.Context())
	if err != nil {
		return err
	}
	return w.serveData(stream)
}

type stateService struct {
	fnpb.UnimplementedBeamFnStateServer
	s *Server
}

func (st *stateService) State(stream fnpb.BeamFnState_StateServer) error {
	w, err := st.s.workerFor(stream.Context())
	if err != nil {
		return err
	}
	return w.serveState(stream)
}

type loggingService struct {
	fnpb.UnimplementedBeamFnLoggingServer
	s *Server
}

func (l *loggingService) Logging(stream fnpb.BeamFnLogging_LoggingServer) error {
	w, err := l.s.workerFor(stream.Context())
	if err != nil {
		return err
	}
	return w.serveLogging(stream)
}

type provisionService struct {
	fnpb.UnimplementedProvisionServiceServer
	s *Server
}

func (p *provisionService) GetProvisionInfo(ctx context.Context, _ *fnpb.GetProvisionInfoRequest) (*fnpb.GetProvisionInfoResponse, error) {
	w, err := p.s.workerFor(ctx)
	if err != nil {
		return nil, err
	}
	return &fnpb.GetProvisionInfoResponse{Info: w.provisionInfo()}, nil
}

func (w *Worker) provisionInfo() *fnpb.ProvisionInfo {
	ep := w.srv.Endpoint()
	info := &fnpb.ProvisionInfo{
		PipelineOptions:    w.cfg.PipelineOptions,
		RetrievalToken:     w.cfg.RetrievalToken,
		LoggingEndpoint:    apiDesc(ep),
		ArtifactEndpoint:   apiDesc(ep),
		ControlEndpoint:    apiDesc(ep),
		RunnerCapabilities: append([]string(nil), w.srv.cfg.RunnerCapabilities...),
		Metadata:           map[string]string{"job_id": w.jobID, "environment_id": w.envID, "worker_id": w.id},
	}
	if w.cfg.Env != nil {
		info.Dependencies = w.cfg.Env.GetDependencies()
	}
	return info
}

func apiDesc(url string) *pipepb.ApiServiceDescriptor {
	return &pipepb.ApiServiceDescriptor{Url: url}
}

// errStreamClosed is returned by a sender whose stream handler has returned.
var errStreamClosed = errors.New("stream closed")

// sender serializes sends on one gRPC stream and refuses sends once the stream's
// handler is about to return (gRPC forbids SendMsg after that).
type sender[T any] struct {
	mu     sync.Mutex
	closed bool
	send   func(T) error
}

func newSender[T any](send func(T) error) *sender[T] {
	return &sender[T]{send: send}
}

func (s *sender[T]) Send(m T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errStreamClosed
	}
	return s.send(m)
}

// close waits for an in-flight send to return, then refuses further sends.
func (s *sender[T]) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}
