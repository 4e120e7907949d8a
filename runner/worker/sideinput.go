package worker

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"

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
// have all ended (and flush has run) it is read-only and may serve concurrent state
// requests.
//
// The values of one (side input, window, key) are stored concatenated in chunks of about
// sideChunkBytes, not one bag entry per value, each chunk a bag of its own (the side
// key, then the chunk's number): a page of a state response is then a chunk or a few,
// found by its number in the continuation token, and the SDK reading a large side input
// costs the runner a copy per page rather than a walk over every value or chunk before.
type sideInputs struct {
	gates []*SideInputGate
	store state.Store
	wv    wire.WindowedValue
	win   []byte
	// open are the chunks still being filled, and chunks the number of chunks stored, by
	// side key.
	open   map[string][]byte
	chunks map[string]uint32
}

// sideChunkBytes is the size at which a chunk of side-input values is stored; it is below
// maxStatePage so that every page holds at least one whole chunk.
const sideChunkBytes = maxStatePage / 2

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
	if s.open == nil {
		s.open, s.chunks = map[string][]byte{}, map[string]uint32{}
	}
	for _, w := range s.wv.Windows {
		s.win = g.Codec.WindowCodec().Append(s.win[:0], w)
		k := sideKey(i, s.win, key)
		chunk := appendDoubling(s.open[string(k)], elem)
		if len(chunk) < sideChunkBytes {
			s.open[string(k)] = chunk
			continue
		}
		delete(s.open, string(k))
		if err := s.storeChunk(string(k), chunk); err != nil {
			return err
		}
	}
	return nil
}

// storeChunk stores the next chunk of the values at side key k.
func (s *sideInputs) storeChunk(k string, chunk []byte) error {
	n := s.chunks[k]
	s.chunks[k] = n + 1
	return s.store.AppendBag(chunkKey([]byte(k), n), chunk)
}

func chunkKey(sideKey []byte, n uint32) []byte {
	return binary.BigEndian.AppendUint32(append([]byte(nil), sideKey...), n)
}

// appendDoubling is append that doubles the capacity when it grows: append grows large
// slices by only 1.25×, which copied each chunk about five times over.
func appendDoubling(dst, b []byte) []byte {
	if len(dst)+len(b) > cap(dst) {
		grown := make([]byte, len(dst), max(2*cap(dst), len(dst)+len(b), 512))
		copy(grown, dst)
		dst = grown
	}
	return append(dst, b...)
}

// flush stores the chunks still open; call it once every side input has ended.
func (s *sideInputs) flush() error {
	for k, chunk := range s.open {
		if err := s.storeChunk(k, chunk); err != nil {
			return err
		}
	}
	s.open = nil
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
	return s.page(key, get.Get)
}

// page answers a Get of the values at side key k with the chunks from the one the
// continuation token names (the first without one), up to about maxStatePage bytes.
func (s *sideInputs) page(k []byte, get *fnpb.StateGetRequest) *fnpb.StateResponse {
	first := uint64(0)
	if tok := get.GetContinuationToken(); len(tok) > 0 {
		n, err := strconv.ParseUint(string(tok), 10, 32)
		if err != nil {
			return stateError("bad continuation token %q", tok)
		}
		first = n
	}
	total := uint64(s.chunks[string(k)])
	var data []byte
	next := first
	for ; next < total && (len(data) == 0 || len(data)+sideChunkBytes <= maxStatePage); next++ {
		err := s.store.ReadBag(chunkKey(k, uint32(next)), func(v []byte) error {
			data = append(data, v...)
			return nil
		})
		if err != nil {
			return stateError("reading side input: %v", err)
		}
	}
	resp := &fnpb.StateGetResponse{Data: data}
	if next < total {
		resp.ContinuationToken = []byte(strconv.FormatUint(next, 10))
	}
	return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: resp}}
}
