package rt

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/util/reflectx"
)

// stateProvider is the state.Provider a stateful DoFn gets for one ProcessElement call:
// exec's stateProvider (exec/userstate.go) over a UserStateReader, method for method, so
// that a DoFn reads and writes what it would on the SDK harness. Reads are cached for the
// call, writes are sent at once and kept as transactions the state types replay on the
// cached reads. Like the SDK's, a bag's (or map's keys') reader is opened once per call:
// read again after it ran dry (a value state read empty), it still yields nothing.
type stateProvider struct {
	b           *UserStateBundle
	key, window []byte

	transactions   map[string][]state.Transaction
	initialValue   map[string]any
	initialBag     map[string][]any
	blindBagWrites map[string]int // appends to a bag before its first read
	initialMapKeys map[string][]any
	initialOrdered map[string][]any // ordered lists: state.OrderedListEntry values
	opened         map[string]bool  // the bags and maps' keys whose reader ran dry
}

var _ state.Provider = (*stateProvider)(nil)

func newStateProvider(b *UserStateBundle, key, window []byte) *stateProvider {
	return &stateProvider{
		b: b, key: key, window: window,
		transactions:   map[string][]state.Transaction{},
		initialValue:   map[string]any{},
		initialBag:     map[string][]any{},
		blindBagWrites: map[string]int{},
		initialMapKeys: map[string][]any{},
		initialOrdered: map[string][]any{},
		opened:         map[string]bool{},
	}
}

func (s *stateProvider) spec(id string) (*userStateSpec, error) {
	spec, ok := s.b.u.states[id]
	if !ok {
		return nil, fmt.Errorf("sluice native: no user state %q in the ParDo's payload", id)
	}
	return spec, nil
}

func (s *stateProvider) stateKey(kind UserStateKind, id string, mapKey []byte) UserStateKey {
	return UserStateKey{Kind: kind, TransformID: s.b.u.transform, StateID: id, Key: s.key, Window: s.window, MapKey: mapKey}
}

// readOnce is what the SDK's cached reader of a bag (or of a map's keys) yields: the
// state's contents the first time, nothing after.
func (s *stateProvider) readOnce(kind UserStateKind, id string) ([]byte, error) {
	if s.opened[id] {
		return nil, nil
	}
	s.opened[id] = true
	return s.b.r.Get(s.b.ctx, s.stateKey(kind, id, nil))
}

// decodeFirst decodes the first value of data, or returns nil if there is none.
func decodeFirst(dec exec.ElementDecoder, data []byte) (any, error) {
	if len(data) == 0 {
		return nil, nil
	}
	fv, err := dec.Decode(bytes.NewReader(data))
	if err != nil && err != io.EOF {
		return nil, err
	}
	if fv == nil {
		return nil, nil
	}
	return fv.Elm, nil
}

// decodeAllValues decodes every value of data.
func decodeAllValues(dec exec.ElementDecoder, data []byte) ([]any, error) {
	vs := []any{}
	r := bytes.NewReader(data)
	for r.Len() > 0 {
		fv, err := dec.Decode(r)
		if err != nil {
			return nil, err
		}
		vs = append(vs, fv.Elm)
	}
	return vs, nil
}

func (s *stateProvider) encode(enc exec.ElementEncoder, v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := enc.Encode(&exec.FullValue{Elm: v}, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *stateProvider) txs(id string) []state.Transaction {
	if ts, ok := s.transactions[id]; ok {
		return ts
	}
	return []state.Transaction{}
}

func (s *stateProvider) appendTx(t state.Transaction) {
	s.transactions[t.Key] = append(s.transactions[t.Key], t)
}

// ReadValueState reads a value (or combining) state: its value at the runner when first
// read in the call, and the writes since.
func (s *stateProvider) ReadValueState(id string) (any, []state.Transaction, error) {
	initial, ok := s.initialValue[id]
	if !ok {
		spec, err := s.spec(id)
		if err != nil {
			return nil, nil, err
		}
		data, err := s.readOnce(UserBag, id)
		if err != nil {
			return nil, nil, err
		}
		v, err := decodeFirst(spec.dec, data)
		if err != nil {
			return nil, nil, err
		}
		if v == nil {
			return nil, []state.Transaction{}, nil // as the SDK: the writes so far are not replayed
		}
		initial = v
		s.initialValue[id] = v
	}
	return initial, s.txs(id), nil
}

// WriteValueState clears the state's bag and appends the value to it.
func (s *stateProvider) WriteValueState(t state.Transaction) error {
	spec, err := s.spec(t.Key)
	if err != nil {
		return err
	}
	k := s.stateKey(UserBag, t.Key, nil)
	if err := s.b.r.Clear(s.b.ctx, k); err != nil {
		return err
	}
	data, err := s.encode(spec.enc, t.Val)
	if err != nil {
		return err
	}
	if err := s.b.r.Append(s.b.ctx, k, data); err != nil {
		return err
	}
	s.transactions[t.Key] = []state.Transaction{t} // what came before a set does not matter
	return nil
}

// ClearValueState clears the state's bag.
func (s *stateProvider) ClearValueState(t state.Transaction) error {
	if err := s.b.r.Clear(s.b.ctx, s.stateKey(UserBag, t.Key, nil)); err != nil {
		return err
	}
	s.transactions[t.Key] = []state.Transaction{t}
	return nil
}

// ReadBagState reads a bag: its values at the runner when first read in the call, and
// the writes since, less the appends made before that read (the read has them).
func (s *stateProvider) ReadBagState(id string) ([]any, []state.Transaction, error) {
	initial, ok := s.initialBag[id]
	if !ok {
		spec, err := s.spec(id)
		if err != nil {
			return nil, nil, err
		}
		data, err := s.readOnce(UserBag, id)
		if err != nil {
			return nil, nil, err
		}
		if initial, err = decodeAllValues(spec.dec, data); err != nil {
			return nil, nil, err
		}
		s.initialBag[id] = initial
	}
	ts := s.txs(id)
	if n := s.blindBagWrites[id]; n > 0 {
		ts = ts[n:]
	}
	return initial, ts, nil
}

// ClearBagState clears a bag.
func (s *stateProvider) ClearBagState(t state.Transaction) error {
	if err := s.b.r.Clear(s.b.ctx, s.stateKey(UserBag, t.Key, nil)); err != nil {
		return err
	}
	s.transactions[t.Key] = []state.Transaction{t}
	s.blindBagWrites[t.Key] = 1 // the clear
	return nil
}

// WriteBagState appends a value to a bag.
func (s *stateProvider) WriteBagState(t state.Transaction) error {
	spec, err := s.spec(t.Key)
	if err != nil {
		return err
	}
	if _, ok := s.initialBag[t.Key]; !ok {
		s.blindBagWrites[t.Key]++
	}
	data, err := s.encode(spec.enc, t.Val)
	if err != nil {
		return err
	}
	if err := s.b.r.Append(s.b.ctx, s.stateKey(UserBag, t.Key, nil), data); err != nil {
		return err
	}
	s.appendTx(t)
	return nil
}

// ReadMapStateValue reads one map key's value from the runner (the SDK caches none) and
// returns it with every write to the map in the call.
func (s *stateProvider) ReadMapStateValue(id string, key any) (any, []state.Transaction, error) {
	spec, err := s.spec(id)
	if err != nil {
		return nil, nil, err
	}
	mk, err := s.mapKey(spec, key)
	if err != nil {
		return nil, nil, err
	}
	data, err := s.b.r.Get(s.b.ctx, s.stateKey(UserMultimap, id, mk))
	if err != nil {
		return nil, nil, err
	}
	v, err := decodeFirst(spec.dec, data)
	if err != nil {
		return nil, nil, err
	}
	if v == nil {
		return nil, []state.Transaction{}, nil
	}
	return v, s.txs(id), nil
}

// ReadMapStateKeys reads a map's keys: those at the runner when first read in the call,
// and the writes since.
func (s *stateProvider) ReadMapStateKeys(id string) ([]any, []state.Transaction, error) {
	initial, ok := s.initialMapKeys[id]
	if !ok {
		spec, err := s.spec(id)
		if err != nil {
			return nil, nil, err
		}
		if spec.keyDec == nil {
			return nil, nil, fmt.Errorf("sluice native: state %q has no map key coder", id)
		}
		data, err := s.readOnce(UserMultimapKeys, id)
		if err != nil {
			return nil, nil, err
		}
		if initial, err = decodeAllValues(spec.keyDec, data); err != nil {
			return nil, nil, err
		}
		s.initialMapKeys[id] = initial
	}
	return initial, s.txs(id), nil
}

// WriteMapState replaces a map key's value.
func (s *stateProvider) WriteMapState(t state.Transaction) error {
	spec, err := s.spec(t.Key)
	if err != nil {
		return err
	}
	mk, err := s.mapKey(spec, t.MapKey)
	if err != nil {
		return err
	}
	k := s.stateKey(UserMultimap, t.Key, mk)
	if err := s.b.r.Clear(s.b.ctx, k); err != nil {
		return err
	}
	data, err := s.encode(spec.enc, t.Val)
	if err != nil {
		return err
	}
	if err := s.b.r.Append(s.b.ctx, k, data); err != nil {
		return err
	}
	s.appendTx(t)
	return nil
}

// ClearMapStateKey removes a map key.
func (s *stateProvider) ClearMapStateKey(t state.Transaction) error {
	spec, err := s.spec(t.Key)
	if err != nil {
		return err
	}
	mk, err := s.mapKey(spec, t.MapKey)
	if err != nil {
		return err
	}
	if err := s.b.r.Clear(s.b.ctx, s.stateKey(UserMultimap, t.Key, mk)); err != nil {
		return err
	}
	s.appendTx(t)
	return nil
}

// ClearMapState removes every key of a map.
func (s *stateProvider) ClearMapState(t state.Transaction) error {
	if err := s.b.r.Clear(s.b.ctx, s.stateKey(UserMultimapKeys, t.Key, nil)); err != nil {
		return err
	}
	s.transactions[t.Key] = []state.Transaction{t}
	return nil
}

func (s *stateProvider) mapKey(spec *userStateSpec, key any) ([]byte, error) {
	if spec.keyEnc == nil {
		return nil, errors.New("sluice native: a map key for a state with no map key coder")
	}
	return s.encode(spec.keyEnc, key)
}

// The combining state's functions are its CombineFn's, from the state spec's payload;
// the state types call what is there.

func (s *stateProvider) combineFn(id string) *graph.CombineFn {
	if spec, ok := s.b.u.states[id]; ok {
		return spec.combine
	}
	return nil
}

func (s *stateProvider) CreateAccumulatorFn(id string) reflectx.Func {
	if c := s.combineFn(id); c != nil && c.CreateAccumulatorFn() != nil {
		return c.CreateAccumulatorFn().Fn
	}
	return nil
}

func (s *stateProvider) AddInputFn(id string) reflectx.Func {
	if c := s.combineFn(id); c != nil && c.AddInputFn() != nil {
		return c.AddInputFn().Fn
	}
	return nil
}

func (s *stateProvider) MergeAccumulatorsFn(id string) reflectx.Func {
	if c := s.combineFn(id); c != nil && c.MergeAccumulatorsFn() != nil {
		return c.MergeAccumulatorsFn().Fn
	}
	return nil
}

func (s *stateProvider) ExtractOutputFn(id string) reflectx.Func {
	if c := s.combineFn(id); c != nil && c.ExtractOutputFn() != nil {
		return c.ExtractOutputFn().Fn
	}
	return nil
}
