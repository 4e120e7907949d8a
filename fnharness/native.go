package fnharness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"

	"github.com/sluice-runner/sluice/codegen/native/protocol"
)

// AttachNative waits, up to within, for the native harness of sdk's process (package
// codegen/native, started by the Go SDK hook next to the SDK harness) to connect, and
// returns it as a Worker: bundles of native stages are started on it like on any worker.
// It has no environment of its own: the process is the SDK worker's, and it ends with it.
// On failure nothing is left registered.
func (s *Server) AttachNative(ctx context.Context, sdk *Worker, within time.Duration) (*Worker, error) {
	cfg := sdk.cfg
	cfg.Env = nil
	w := s.newWorker(sdk.id+protocol.WorkerSuffix, cfg)
	w.native = true
	if err := s.addWorker(w); err != nil {
		w.cancel()
		return nil, err
	}
	timer := time.NewTimer(within)
	defer timer.Stop()
	var err error
	select {
	case <-w.connected:
		w.log.Info("native harness connected", "fingerprints", len(w.fingerprints))
		return w, nil
	case <-w.done:
		err = w.causeErr()
	case <-sdk.done:
		err = fmt.Errorf("the SDK worker ended: %w", sdk.causeErr())
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = fmt.Errorf("no native harness connected as %s within %v (the binary carries no generated chains, or cannot reach %s)", w.id, within, s.Endpoint())
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := w.Stop(stopCtx); serr != nil {
		w.log.Warn("cleaning up a native worker that did not connect", "err", serr)
	}
	return nil, err
}

// HasChain says whether this native worker carries the chain of the stage with the
// given fingerprint.
func (w *Worker) HasChain(fingerprint string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Contains(w.fingerprints, fingerprint)
}

// HasCapability says whether this native worker announced the capability (one of
// protocol's Capability constants) when its control stream connected.
func (w *Worker) HasCapability(capability string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Contains(w.capabilities, capability)
}

// PortableReason is why the generated file of a native worker's binary has no chain
// for the stage with the given fingerprint, if it knows that stage.
func (w *Worker) PortableReason(fingerprint string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	why, ok := w.portable[fingerprint]
	return why, ok
}

// nativeStages reads what a native harness announces on its control stream: the
// fingerprints of its chains, and the stages it knows but runs portably, with why.
func nativeStages(ctx context.Context) (chains []string, portable map[string]string) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get(protocol.FingerprintsKey) {
		for _, fp := range strings.Split(v, ",") {
			if fp != "" {
				chains = append(chains, fp)
			}
		}
	}
	portable = map[string]string{}
	for _, v := range md.Get(protocol.PortableKey) {
		fp, why, _ := strings.Cut(v, " ")
		portable[fp] = why
	}
	return chains, portable
}

// RegisterNativeServices mounts the control, data and state services on g as well, for native
// harnesses that only know the job endpoint (LOOPBACK: the submitting process knows
// --endpoint, not the Fn API's port). Streams still find their worker by worker_id.
func (s *Server) RegisterNativeServices(g grpc.ServiceRegistrar) {
	fnpb.RegisterBeamFnControlServer(g, &controlService{s: s})
	fnpb.RegisterBeamFnDataServer(g, &dataService{s: s})
	fnpb.RegisterBeamFnStateServer(g, &stateService{s: s})
}

// withNativeEndpoint returns opts plus the Go option telling a PROCESS worker's native
// harness where the Fn API is (it has no --endpoint); opts is not changed.
func withNativeEndpoint(opts *structpb.Struct, endpoint string) *structpb.Struct {
	if opts == nil {
		return nil
	}
	out := proto.Clone(opts).(*structpb.Struct)
	goOpts := out.GetFields()["beam:option:go_options:v1"].GetStructValue()
	inner := goOpts.GetFields()["options"].GetStructValue()
	if inner == nil { // not a Go pipeline's options
		return out
	}
	if inner.Fields == nil {
		inner.Fields = map[string]*structpb.Value{}
	}
	inner.Fields[protocol.EndpointOption] = structpb.NewStringValue(endpoint)
	return out
}
