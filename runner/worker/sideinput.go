package worker

import (
	"context"
	"encoding/binary"
	"fmt"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"

	"github.com/sluice-runner/sluice/runner/plan"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/shuffle"
	"github.com/sluice-runner/sluice/state"
)

// SideInputGate is the broadcast input of one side input of an SDK stage.
type SideInputGate struct {
	Input plan.SideInput
	Gate  *shuffle.InputGate
	Codec *wire.WindowedValueCodec
}

// sideInputs materializes a stage's side inputs into a state store, then serves them to
// the SDK. The store is written only while the stage waits for its side inputs; once they
// have all ended it is read-only and may serve concurrent state requests.
type sideInputs struct {
	gates []*SideInputGate
	store state.Store
	wv    wire.WindowedValue
	win   []byte
}

// add stores one element of side input i under each of its windows (and its key, for a multimap).
func (s *sideInputs) add(i int, rec []byte) error {
	g := s.gates[i]
	if _, err := g.Codec.DecodeInto(rec, &s.wv); err != nil {
		return fmt.Errorf("side input %q: %w", g.Input.LocalName, err)
	}
	elem, key := s.wv.Element, []byte(nil)
	if g.Input.Multimap {
		kv, ok := g.Codec.KV()
		if !ok {
			return fmt.Errorf("side input %q is a multimap but its elements are not KVs", g.Input.LocalName)
		}
		k, v, err := kv.Split(s.wv.Element)
		if err != nil {
			return fmt.Errorf("side input %q: %w", g.Input.LocalName, err)
		}
		key, elem = k, v
	}
	for _, w := range s.wv.Windows {
		s.win = g.Codec.WindowCodec().Append(s.win[:0], w)
		if err := s.store.AppendBag(sideKey(i, s.win, key), elem); err != nil {
			return err
		}
	}
	return nil
}

func sideKey(i int, window, key []byte) []byte {
	k := binary.AppendUvarint(make([]byte, 0, 4+len(window)+len(key)), uint64(i))
	k = binary.AppendUvarint(k, uint64(len(window)))
	k = append(k, window...)
	return append(k, key...)
}

func (s *sideInputs) find(transform, local string) (int, bool) {
	for i, g := range s.gates {
		if g.Input.TransformID == transform && g.Input.LocalName == local {
			return i, true
		}
	}
	return 0, false
}

// HandleState implements fnharness.StateHandler for side-input reads.
func (s *sideInputs) HandleState(_ context.Context, req *fnpb.StateRequest) *fnpb.StateResponse {
	fail := stateError
	var key []byte
	switch k := req.GetStateKey().GetType().(type) {
	case *fnpb.StateKey_IterableSideInput_:
		i, ok := s.find(k.IterableSideInput.GetTransformId(), k.IterableSideInput.GetSideInputId())
		if !ok {
			return fail("unknown side input %q of transform %q", k.IterableSideInput.GetSideInputId(), k.IterableSideInput.GetTransformId())
		}
		key = sideKey(i, k.IterableSideInput.GetWindow(), nil)
	case *fnpb.StateKey_MultimapSideInput_:
		i, ok := s.find(k.MultimapSideInput.GetTransformId(), k.MultimapSideInput.GetSideInputId())
		if !ok {
			return fail("unknown side input %q of transform %q", k.MultimapSideInput.GetSideInputId(), k.MultimapSideInput.GetTransformId())
		}
		key = sideKey(i, k.MultimapSideInput.GetWindow(), k.MultimapSideInput.GetKey())
	default:
		return fail("state key %T is not supported by Sluice yet", k)
	}
	get, ok := req.GetRequest().(*fnpb.StateRequest_Get)
	if !ok {
		return fail("side inputs are read-only: %T is not allowed", req.GetRequest())
	}
	return pagedGet(s.store, [][]byte{key}, 0, get.Get)
}
