package rt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"google.golang.org/protobuf/encoding/protowire"
)

// Ordered list state, as exec's stateProvider keeps it (ReadOrderedListState and the
// rest, exec/userstate.go): the first read in a call fetches the whole list (every sort
// key) and caches it; every add and clear goes to the runner at once and is kept as a
// transaction that state.OrderedList replays on the cached read, filtering by its range.
// Like the SDK's, the read does not drop the adds made before it: the runner has them
// and the transactions replay them too, so they show twice.
//
// An entry is varint(uint64(sort key)) followed by the value in the state's element
// coder (exec's encodeOrderedListEntry), one entry per append request.

// ReadOrderedListState reads an ordered list: its entries at the runner when first read
// in the call, and the writes since.
func (s *stateProvider) ReadOrderedListState(id string) ([]any, []state.Transaction, error) {
	initial, ok := s.initialOrdered[id]
	if !ok {
		spec, err := s.spec(id)
		if err != nil {
			return nil, nil, err
		}
		k := s.stateKey(UserOrderedList, id, nil)
		k.Start, k.End = math.MinInt64, math.MaxInt64
		data, err := s.b.r.Get(s.b.ctx, k)
		if err != nil {
			return nil, nil, err
		}
		initial = []any{}
		r := bytes.NewReader(data)
		for {
			e, err := decodeOrderedListEntry(r, spec.dec)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, nil, fmt.Errorf("sluice native: ordered list state %q: %w", id, err)
			}
			initial = append(initial, e)
		}
		s.initialOrdered[id] = initial
	}
	return initial, s.txs(id), nil
}

// WriteOrderedListState appends one entry (t.MapKey is its sort key).
func (s *stateProvider) WriteOrderedListState(t state.Transaction) error {
	spec, err := s.spec(t.Key)
	if err != nil {
		return err
	}
	sortKey, ok := t.MapKey.(int64)
	if !ok {
		return fmt.Errorf("sluice native: ordered list state %q: sort key %v is a %T, want int64", t.Key, t.MapKey, t.MapKey)
	}
	data := protowire.AppendVarint(nil, uint64(sortKey))
	var buf bytes.Buffer
	if err := spec.enc.Encode(&exec.FullValue{Elm: t.Val}, &buf); err != nil {
		return fmt.Errorf("sluice native: ordered list state %q: %w", t.Key, err)
	}
	data = append(data, buf.Bytes()...)
	if err := s.b.r.Append(s.b.ctx, s.stateKey(UserOrderedList, t.Key, nil), data); err != nil {
		return err
	}
	s.appendTx(t)
	return nil
}

// ClearOrderedListState clears the entries whose sort keys are in [t.MapKey[0],
// t.MapKey[1]).
func (s *stateProvider) ClearOrderedListState(t state.Transaction) error {
	r, ok := t.MapKey.([2]int64)
	if !ok {
		return fmt.Errorf("sluice native: ordered list state %q: clear range %v is a %T, want [2]int64", t.Key, t.MapKey, t.MapKey)
	}
	k := s.stateKey(UserOrderedList, t.Key, nil)
	k.Start, k.End = r[0], r[1]
	if err := s.b.r.Clear(s.b.ctx, k); err != nil {
		return err
	}
	s.appendTx(t) // unlike a bag's clear, earlier writes stay: the clear has a range
	return nil
}

// decodeOrderedListEntry reads one entry from r as exec's does: io.EOF if r is empty.
func decodeOrderedListEntry(r *bytes.Reader, dec exec.ElementDecoder) (state.OrderedListEntry, error) {
	if r.Len() == 0 {
		return state.OrderedListEntry{}, io.EOF
	}
	rest := make([]byte, min(r.Len(), binary.MaxVarintLen64))
	n, _ := r.ReadAt(rest, r.Size()-int64(r.Len()))
	sortKey, m := protowire.ConsumeVarint(rest[:n])
	if m < 0 {
		return state.OrderedListEntry{}, errors.New("invalid varint in ordered list entry")
	}
	if _, err := r.Seek(int64(m), io.SeekCurrent); err != nil {
		return state.OrderedListEntry{}, err
	}
	fv, err := dec.Decode(r)
	if err != nil {
		return state.OrderedListEntry{}, err
	}
	return state.OrderedListEntry{SortKey: int64(sortKey), Value: fv.Elm}, nil
}
