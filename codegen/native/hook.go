package native

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/util/hooks"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sluice-runner/sluice/codegen/native/protocol"
	"github.com/sluice-runner/sluice/codegen/rt"
)

// enabled is the --sluice_native flag the generated file's import adds to the program.
var enabled = flag.Bool("sluice_native", true, "run the stages sluicegen generated chains for natively on Sluice (false: every stage portably)")

func init() {
	hooks.RegisterHook(protocol.HookName, func([]string) hooks.Hook {
		return hooks.Hook{Init: startHarness}
	})
	// Enabled at init so that the launcher serializes it into the pipeline options: the
	// runner reads it there to expect a native harness, and a PROCESS worker gets it back.
	hooks.EnableHook(protocol.HookName)
	// beam.Init runs this after the flags are parsed: with --sluice_native=false the hook
	// is not in the pipeline options, so the runner expects no native harness.
	runtime.RegisterInit(func() {
		if !*enabled {
			hooks.DisableHook(protocol.HookName)
		}
	})
}

// startHarness is the hook's Init: it runs in the SDK harness's start-up, before the SDK
// connects, and starts the native harness on the SDK harness's context (which ends when
// the runner stops the worker). It never fails the SDK harness: without a native harness
// the runner runs every stage portably.
func startHarness(ctx context.Context) (context.Context, error) {
	fps, portable := rt.Fingerprints(), rt.PortableStages()
	if len(fps) == 0 && len(portable) == 0 {
		return ctx, nil
	}
	id, endpoint, err := connectionFacts(ctx)
	if err != nil {
		log.Warnf(ctx, "sluice native harness not started, every stage runs portably: %v", err)
		return ctx, nil
	}
	h := &Harness{WorkerID: id + protocol.WorkerSuffix, Endpoint: endpoint, Fingerprints: fps, Portable: portable}
	go func() {
		switch err := h.Run(ctx); {
		case err == nil || ctx.Err() != nil:
		case status.Code(errors.Unwrap(err)) == codes.Unimplemented:
			// Another runner (prism, Dataflow): every stage runs on the SDK harness.
			log.Infof(ctx, "sluice native harness not started: the runner at %s is not Sluice", h.Endpoint)
		default:
			log.Errorf(ctx, "sluice native harness %s ended: %v", h.WorkerID, err)
		}
	}()
	return ctx, nil
}

// connectionFacts is the SDK worker's id (the harness's outgoing metadata) and where the
// runner's Fn API is.
func connectionFacts(ctx context.Context) (id, endpoint string, err error) {
	md, _ := metadata.FromOutgoingContext(ctx)
	if ids := md.Get("worker_id"); len(ids) == 1 && ids[0] != "" {
		id = ids[0]
	} else {
		return "", "", fmt.Errorf("the SDK harness's context carries no worker_id (got %q)", ids)
	}
	endpoint = beam.PipelineOptions.Get(protocol.EndpointOption)
	if endpoint == "" && jobopts.Endpoint != nil {
		endpoint = *jobopts.Endpoint
	}
	if endpoint == "" {
		return "", "", fmt.Errorf("no runner endpoint: neither the %s option nor --endpoint is set", protocol.EndpointOption)
	}
	return id, endpoint, nil
}
