package plan

import (
	"fmt"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-runner/sluice/runner/window"
	"github.com/sluice-runner/sluice/runner/wire"
)

// SourceTransformID is the id of the data source transform in every SDK stage descriptor.
const SourceTransformID = "sluice/source"

// describe fixes the wire coder of every PCollection crossing a stage boundary and builds
// the ProcessBundleDescriptor of every SDK stage.
func describe(g *JobGraph, lp *leafPipeline) error {
	for _, e := range g.Edges {
		if _, err := g.portCoder(e.PCollection); err != nil {
			return err
		}
		to := g.Stage(e.To)
		if e.SideInput == nil && to.Input != "" {
			if _, err := g.portCoder(to.Input); err != nil {
				return err
			}
		}
	}
	for _, s := range g.Stages {
		if s.Kind == KindGroupByKey {
			// The runner groups by these windows: refuse at Prepare what it cannot merge.
			ws := g.Components.GetWindowingStrategies()[s.WindowingStrategyID]
			if _, err := window.StrategyFromProto(ws); err != nil {
				return fmt.Errorf("transform %q: %w", lp.leaves[s.Transforms[0]].GetUniqueName(), err)
			}
			if err := checkGroupingTrigger(ws); err != nil {
				return fmt.Errorf("transform %q: %w", lp.leaves[s.Transforms[0]].GetUniqueName(), err)
			}
			out, err := singleValue(lp.leaves[s.Transforms[0]].GetOutputs())
			if err != nil {
				return fmt.Errorf("transform %q: %w", lp.leaves[s.Transforms[0]].GetUniqueName(), err)
			}
			if _, err := g.portCoder(out); err != nil {
				return err
			}
		}
		if s.Kind == KindSDK {
			if err := g.describeSDK(s, lp); err != nil {
				return err
			}
		}
		if s.Kind == KindTestStream {
			if err := g.describeTestStream(s, lp); err != nil {
				return err
			}
		}
	}
	return nil
}

// portCoder returns (adding on first use) windowed_value(lp(element coder), window coder)
// for pc, and checks that the runner can parse it.
func (g *JobGraph) portCoder(pc string) (string, error) {
	if id, ok := g.PortCoders[pc]; ok {
		return id, nil
	}
	comps := g.Components
	p := comps.GetPcollections()[pc]
	if p == nil {
		return "", fmt.Errorf("PCollection %q is not defined", pc)
	}
	elem, err := wire.LengthPrefixUnknownCoders(comps, p.GetCoderId())
	if err != nil {
		return "", fmt.Errorf("PCollection %q (%s): %w", p.GetUniqueName(), pc, err)
	}
	ws := comps.GetWindowingStrategies()[p.GetWindowingStrategyId()]
	if ws == nil {
		return "", fmt.Errorf("PCollection %q (%s): windowing strategy %q is not defined", p.GetUniqueName(), pc, p.GetWindowingStrategyId())
	}
	id := addCoder(comps, "sluice/wv/"+elem+"/"+ws.GetWindowCoderId(), &pipepb.Coder{
		Spec:              &pipepb.FunctionSpec{Urn: wire.URNWindowedValue},
		ComponentCoderIds: []string{elem, ws.GetWindowCoderId()},
	})
	if _, err := wire.NewWindowedValueCodec(comps, id); err != nil {
		return "", fmt.Errorf("PCollection %q (%s): the runner cannot read its coder: %w", p.GetUniqueName(), pc, err)
	}
	g.PortCoders[pc] = id
	return id, nil
}

// KeyLengthPrefixed says whether the runner wrapped the key coder of KV PCollection pc in a
// length prefix on the wire (the SDK's own coder, unknown to the runner): partitioning
// then hashes the prefixed key, while the SDK names state by the key as its own coder
// writes it.
func (g *JobGraph) KeyLengthPrefixed(pc string) bool {
	coders := g.Components.GetCoders()
	keyCoder := func(kvID string) *pipepb.Coder {
		kv := coders[kvID]
		if kv.GetSpec().GetUrn() != wire.URNKV || len(kv.GetComponentCoderIds()) != 2 {
			return nil
		}
		return coders[kv.GetComponentCoderIds()[0]]
	}
	port := coders[g.PortCoders[pc]]
	if len(port.GetComponentCoderIds()) == 0 {
		return false
	}
	wireKey := keyCoder(port.GetComponentCoderIds()[0])
	ownKey := keyCoder(g.Components.GetPcollections()[pc].GetCoderId())
	return wireKey.GetSpec().GetUrn() == wire.URNLengthPrefix && ownKey.GetSpec().GetUrn() != wire.URNLengthPrefix
}

func (g *JobGraph) describeSDK(s *Stage, lp *leafPipeline) error {
	comps := g.Components
	desc := &fnpb.ProcessBundleDescriptor{
		Id:                  s.ID,
		Transforms:          map[string]*pipepb.PTransform{},
		Pcollections:        map[string]*pipepb.PCollection{},
		Coders:              comps.GetCoders(),
		WindowingStrategies: comps.GetWindowingStrategies(),
		Environments:        comps.GetEnvironments(),
	}
	addPC := func(pc string) {
		desc.Pcollections[pc] = comps.GetPcollections()[pc]
	}
	sideLocal := map[string]map[string]string{} // transform -> local name -> side PCollection seen by the SDK
	for i := range s.SideInputs {
		si := &s.SideInputs[i]
		pcID, err := g.sideInputPCollection(si.PCollection)
		if err != nil {
			return err
		}
		si.PCollection = pcID
		if sideLocal[si.TransformID] == nil {
			sideLocal[si.TransformID] = map[string]string{}
		}
		sideLocal[si.TransformID][si.LocalName] = pcID
	}
	for _, id := range s.Transforms {
		t := lp.leaves[id]
		if locals := sideLocal[id]; len(locals) > 0 {
			t = proto.Clone(t).(*pipepb.PTransform)
			for local, pc := range locals {
				t.Inputs[local] = pc
			}
		}
		t, err := g.describeTimers(s, id, t)
		if err != nil {
			return err
		}
		desc.Transforms[id] = t
		for _, pc := range t.GetInputs() {
			addPC(pc)
		}
		for _, pc := range t.GetOutputs() {
			addPC(pc)
		}
	}
	inCoder, err := g.portCoder(s.Input)
	if err != nil {
		return err
	}
	desc.Transforms[SourceTransformID] = &pipepb.PTransform{
		UniqueName: SourceTransformID,
		Spec:       &pipepb.FunctionSpec{Urn: urnDataSource, Payload: portPayload(inCoder)},
		Outputs:    map[string]string{"o": s.Input},
	}
	addPC(s.Input)
	s.SourceTransformID = SourceTransformID
	s.SinkTransformIDs = map[string]string{}
	for _, pc := range s.Outputs {
		c, err := g.portCoder(pc)
		if err != nil {
			return err
		}
		sink := "sluice/sink/" + pc
		desc.Transforms[sink] = &pipepb.PTransform{
			UniqueName: sink,
			Spec:       &pipepb.FunctionSpec{Urn: urnDataSink, Payload: portPayload(c)},
			Inputs:     map[string]string{"i": pc},
		}
		s.SinkTransformIDs[pc] = sink
	}
	s.Descriptor = desc
	if d, ok := lp.drains[s.Transforms[0]]; ok {
		drain := proto.Clone(desc).(*fnpb.ProcessBundleDescriptor)
		drain.Id = s.ID + "/drain"
		delete(drain.Transforms, s.Transforms[0])
		drain.Transforms[d.truncate] = comps.GetTransforms()[d.truncate]
		drain.Transforms[d.process] = comps.GetTransforms()[d.process]
		drain.Pcollections[d.truncatedPC] = comps.GetPcollections()[d.truncatedPC]
		s.DrainDescriptor = drain
	}
	return nil
}

// sideInputPCollection returns the PCollection the SDK should decode a side input with: the
// producer's own when its coder needs no length prefix, else a copy carrying the prefixed
// coder, since the runner serves side input bytes exactly as the producer's port wrote them.
func (g *JobGraph) sideInputPCollection(pc string) (string, error) {
	comps := g.Components
	p := comps.GetPcollections()[pc]
	lpCoder, err := wire.LengthPrefixUnknownCoders(comps, p.GetCoderId())
	if err != nil {
		return "", fmt.Errorf("side input PCollection %q (%s): %w", p.GetUniqueName(), pc, err)
	}
	if lpCoder == p.GetCoderId() {
		return pc, nil
	}
	id := pc + "/sluice-side"
	if _, ok := comps.Pcollections[id]; !ok {
		cp := proto.Clone(p).(*pipepb.PCollection)
		cp.UniqueName = p.GetUniqueName() + "/sluice-side"
		cp.CoderId = lpCoder
		comps.Pcollections[id] = cp
	}
	return id, nil
}

func portPayload(coderID string) []byte {
	b, _ := proto.Marshal(&fnpb.RemoteGrpcPort{CoderId: coderID})
	return b
}
