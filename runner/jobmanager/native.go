package jobmanager

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sluice-runner/sluice/codegen/fingerprint"
	"github.com/sluice-runner/sluice/codegen/native/protocol"
	"github.com/sluice-runner/sluice/fnharness"
	"github.com/sluice-runner/sluice/runner/plan"
)

// nativeRun is how a job's native stages run: the native harness of each environment
// that has one, and the native descriptor id of each stage that runs on it.
type nativeRun struct {
	workers     map[string]*fnharness.Worker
	descriptors map[string]string
	// groupInlineBytes is how much of a group the runner keeps in memory for a native
	// harness that reads groups from runner state (protocol.CapabilityGroupState).
	groupInlineBytes int
}

// groupInline is the SDKTask.GroupInlineBytes of a stage run on native harness nw: a
// harness that cannot read a group's rest from runner state gets every value inline.
func (n nativeRun) groupInline(nw *fnharness.Worker) int {
	if !nw.HasCapability(protocol.CapabilityGroupState) {
		return -1
	}
	if n.groupInlineBytes > 0 {
		return n.groupInlineBytes
	}
	return NativeGroupInlineBytes
}

// NativeGroupInlineBytes is how many bytes of a group's values the runner keeps in memory
// for a native stage by default (sent, or parked as gathered and read page by page as the
// chain iterates them: see worker.GroupBuffer.ParkBlocks); past them, values go to the
// group store, which keeps the runner's memory bounded. It is larger than the SDK
// harness's worker.InlineBytes because a page from memory costs no more than the data
// stream, while a store's write and read are extra work.
const NativeGroupInlineBytes = 64 << 20

// nativeConnectWithin bounds the wait for a native harness once its SDK worker is up: the
// hook that starts it runs before the SDK harness connects, so it is normally there first.
const nativeConnectWithin = 10 * time.Second

// nativeRequested says whether the job's binary carries generated chains: its Go
// pipeline options list the native harness's hook, which codegen/native enables unless
// the program ran with --sluice_native=false. Otherwise it says why not.
func nativeRequested(opts *structpb.Struct) (bool, string) {
	goOpts := opts.GetFields()["beam:option:go_options:v1"].GetStructValue().GetFields()["options"].GetStructValue()
	if !strings.Contains(goOpts.GetFields()["hooks"].GetStringValue(), protocol.HookName) {
		return false, "the pipeline's binary has no sluicegen chains, or ran with --sluice_native=false"
	}
	return true, ""
}

// attachNative waits for the native harness of each SDK worker. A harness that does not
// come only costs native execution: the job's stages then run portably, and it says so.
func (e *Engine) attachNative(ctx context.Context, job Job, workers map[string]*fnharness.Worker, log *slog.Logger) map[string]*fnharness.Worker {
	natives := map[string]*fnharness.Worker{}
	if ok, _ := nativeRequested(job.Options); !ok {
		return natives
	}
	for env, w := range workers {
		nw, err := e.Fn.AttachNative(ctx, w, nativeConnectWithin)
		if err != nil {
			log.Warn("no native harness", "env", env, "err", err)
			jobMessage(job, slog.LevelWarn, fmt.Sprintf("environment %s: every stage runs portably: %v", env, err))
			continue
		}
		natives[env] = nw
	}
	return natives
}

// nativeStages decides, per SDK stage, whether it runs on its environment's native
// harness, registers the native descriptor of each stage that does, and says in one job
// message how every SDK stage runs and why. It returns the native descriptor id by stage.
func nativeStages(job Job, g *plan.JobGraph, natives map[string]*fnharness.Worker) (map[string]string, error) {
	descs := map[string]string{}
	requested, why := nativeRequested(job.Options)
	var lines, stale []string
	for _, s := range g.Stages {
		if s.Kind != plan.KindSDK {
			continue
		}
		mode, err := nativeStage(g, s, natives[s.EnvironmentID], requested, why)
		if err != nil {
			return nil, err
		}
		if mode.descriptor != nil {
			descs[s.ID] = mode.descriptor.GetId()
		}
		line := fmt.Sprintf("  %s %s: %s", s.ID, stageName(g, s), mode.says)
		lines = append(lines, line)
		if mode.stale {
			stale = append(stale, line)
		}
	}
	if len(lines) > 0 {
		jobMessage(job, slog.LevelInfo, "how SDK stages run:\n"+strings.Join(lines, "\n"))
	}
	if len(stale) > 0 {
		jobMessage(job, slog.LevelWarn, "the binary's generated file does not match these stages, which run portably (run go generate again):\n"+strings.Join(stale, "\n"))
	}
	return descs, nil
}

type stageMode struct {
	says       string
	stale      bool                          // the binary's generated file does not know the stage
	descriptor *fnpb.ProcessBundleDescriptor // registered on the native worker when native
}

func nativeStage(g *plan.JobGraph, s *plan.Stage, nw *fnharness.Worker, requested bool, why string) (stageMode, error) {
	fp, err := fingerprint.Of(g.Components, fingerprint.Stage{Transforms: s.Transforms, Input: s.Input, Outputs: s.Outputs})
	if err != nil {
		return stageMode{says: "portable (no fingerprint: " + err.Error() + ")"}, nil
	}
	switch {
	case !requested:
		return stageMode{says: "portable (" + why + "), fingerprint " + fp}, nil
	case nw == nil:
		return stageMode{says: "portable (no native harness connected), fingerprint " + fp}, nil
	case !nw.HasChain(fp):
		if why, known := nw.PortableReason(fp); known {
			return stageMode{says: "portable (sluicegen: " + why + "), fingerprint " + fp}, nil
		}
		return stageMode{says: "portable (stale: the binary's generated file has no stage with fingerprint " + fp +
			": the stage changed since go generate)", stale: true}, nil
	}
	if reason := nativeIneligible(s, nw); reason != "" {
		return stageMode{says: "portable (" + reason + "), fingerprint " + fp}, nil
	}
	desc, err := nativeDescriptor(s, fp)
	if err != nil {
		return stageMode{}, err
	}
	if err := nw.Register(desc); err != nil {
		return stageMode{}, fmt.Errorf("registering native stage %s: %w", s.ID, err)
	}
	return stageMode{says: "native, fingerprint " + fp, descriptor: desc}, nil
}

// nativeIneligible is why a stage whose chain the binary carries still cannot run on
// the native harness nw, which does not split, and reads side inputs, keeps user state
// and sets timers only if it announced it can (the SDKTask then serves its bundles'
// state requests as it serves the SDK harness's: the same handler, under the native
// bundle's instruction id, the user state keyed and partitioned as for the SDK harness). sluicegen generates no chain for such stages, so this
// only guards against a mismatched binary. A bounded splittable DoFn is fine: its
// bundles run whole, and draining does not apply to it (truncating a bounded
// restriction keeps all of it).
func nativeIneligible(s *plan.Stage, nw *fnharness.Worker) string {
	switch {
	case len(s.SideInputs) > 0 && !nw.HasCapability(protocol.CapabilitySideInputs):
		return "it reads side inputs, which the native harness does not announce it can"
	case len(s.TimerFamilies) > 0 && !nw.HasCapability(protocol.CapabilityTimers):
		return "it sets timers, which the native harness does not announce it can"
	case len(s.UserStateIDs()) > 0 && !nw.HasCapability(protocol.CapabilityUserState):
		return "it keeps user state, which the native harness does not announce it can"
	case s.DrainDescriptor != nil && unbounded(s):
		return "it runs an unbounded splittable DoFn (draining truncates restrictions, which native chains cannot)"
	}
	return ""
}

// unbounded says whether any PCollection of the stage is unbounded.
func unbounded(s *plan.Stage) bool {
	for _, pc := range s.Descriptor.GetPcollections() {
		if pc.GetIsBounded() == pipepb.IsBounded_UNBOUNDED {
			return true
		}
	}
	return false
}

// nativeDescriptor is the descriptor the native harness gets for s (see package protocol).
func nativeDescriptor(s *plan.Stage, fp string) (*fnpb.ProcessBundleDescriptor, error) {
	spec := protocol.Stage{Fingerprint: fp, Name: s.ID, Source: s.SourceTransformID, Input: s.Input}
	for _, pc := range s.Outputs {
		sink, ok := s.SinkTransformIDs[pc]
		if !ok {
			return nil, fmt.Errorf("stage %s: output %s has no data sink", s.ID, pc)
		}
		spec.Sinks = append(spec.Sinks, sink)
		spec.Outputs = append(spec.Outputs, pc)
	}
	payload, err := spec.Marshal()
	if err != nil {
		return nil, fmt.Errorf("stage %s: native descriptor: %w", s.ID, err)
	}
	// The stage's own descriptor goes along: chains decode their DoFns' configuration from
	// its payloads (by transform name) and untyped ports with its coders.
	desc := proto.Clone(s.Descriptor).(*fnpb.ProcessBundleDescriptor)
	desc.Id = "native-" + s.Descriptor.GetId()
	desc.Transforms["sluice-native-stage"] = &pipepb.PTransform{UniqueName: "sluice-native-stage/" + s.ID,
		Spec: &pipepb.FunctionSpec{Urn: protocol.StageURN, Payload: payload}}
	return desc, nil
}

func jobMessage(job Job, level slog.Level, text string) {
	if job.Message != nil {
		job.Message(level, text)
	}
}
