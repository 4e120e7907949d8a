package fnharness

import (
	"context"
	"errors"
	"fmt"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// Environment URNs understood by StartWorker.
const (
	URNEnvExternal = "beam:env:external:v1"
	URNEnvProcess  = "beam:env:process:v1"
	URNEnvDocker   = "beam:env:docker:v1"
)

// ErrDockerUnavailable is returned for beam:env:docker:v1 environments.
var ErrDockerUnavailable = errors.New("DOCKER environments need a Docker engine; none is available here; use --environment_type=LOOPBACK or PROCESS")

// environment is a started worker environment.
type environment interface {
	// stop asks the environment to end the worker and waits (bounded by ctx).
	stop(ctx context.Context) error
	// cleanup releases local resources after the worker's goroutines ended.
	cleanup()
}

func (w *Worker) startEnvironment(ctx context.Context) error {
	var (
		env environment
		err error
	)
	switch urn := w.cfg.Env.GetUrn(); urn {
	case URNEnvExternal:
		env, err = startExternal(ctx, w)
	case URNEnvProcess:
		env, err = startProcess(w)
	case URNEnvDocker:
		return ErrDockerUnavailable
	default:
		return fmt.Errorf("unsupported environment urn %q; supported: %s (LOOPBACK, EXTERNAL), %s (PROCESS)", urn, URNEnvExternal, URNEnvProcess)
	}
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.env = env
	w.mu.Unlock()
	return nil
}

// externalEnv is a worker started by a BeamFnExternalWorkerPool (LOOPBACK:
// the submitting SDK process itself; EXTERNAL: a worker pool service).
type externalEnv struct {
	w        *Worker
	endpoint string
	conn     *grpc.ClientConn
}

func startExternal(ctx context.Context, w *Worker) (environment, error) {
	payload := &pipepb.ExternalPayload{}
	if err := proto.Unmarshal(w.cfg.Env.GetPayload(), payload); err != nil {
		return nil, fmt.Errorf("decoding the ExternalPayload of the environment: %w", err)
	}
	url := payload.GetEndpoint().GetUrl()
	if url == "" {
		return nil, errors.New("the external environment names no worker pool endpoint")
	}
	conn, err := grpc.NewClient(url, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("connecting to the external worker pool at %s: %w", url, err)
	}
	ep := w.srv.Endpoint()
	req := &fnpb.StartWorkerRequest{
		WorkerId:          w.id,
		ControlEndpoint:   apiDesc(ep),
		LoggingEndpoint:   apiDesc(ep),
		ArtifactEndpoint:  apiDesc(ep),
		ProvisionEndpoint: apiDesc(ep),
		Params:            payload.GetParams(),
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := fnpb.NewBeamFnExternalWorkerPoolClient(conn).StartWorker(cctx, req)
	if err == nil && resp.GetError() != "" {
		err = errors.New(resp.GetError())
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("external worker pool at %s could not start the worker (is the submitting process still running and reachable?): %w", url, err)
	}
	w.log.Info("external worker pool started the worker", "pool", url)
	return &externalEnv{w: w, endpoint: url, conn: conn}, nil
}

func (e *externalEnv) stop(ctx context.Context) error {
	defer e.conn.Close()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := fnpb.NewBeamFnExternalWorkerPoolClient(e.conn).StopWorker(sctx, &fnpb.StopWorkerRequest{WorkerId: e.w.id})
	if err == nil && resp.GetError() != "" {
		err = errors.New(resp.GetError())
	}
	if err != nil {
		return fmt.Errorf("StopWorker on the external worker pool at %s: %w", e.endpoint, err)
	}
	return nil
}

func (e *externalEnv) cleanup() {}
