package rt

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"
)

// UserStateKind says which Fn API state key a UserStateKey is.
type UserStateKind int

const (
	// UserBag is a BagUserState key: value, bag and combining state.
	UserBag UserStateKind = iota
	// UserMultimap is a MultimapUserState key: one map key of map or set state.
	UserMultimap
	// UserMultimapKeys is a MultimapKeysUserState key: every map key of map or set state.
	UserMultimapKeys
	// UserOrderedList is an OrderedListUserState key: the entries of ordered list state
	// whose sort keys are in [Start, End) (for Get and Clear; an Append has no range).
	UserOrderedList
)

// UserStateKey names one piece of a stateful ParDo's user state, as the Fn API's state
// keys do: the transform, its state id, the element's key and window (encoded as the SDK
// encodes them), for UserMultimap the map key and for UserOrderedList the range of sort
// keys [Start, End).
type UserStateKey struct {
	Kind                 UserStateKind
	TransformID, StateID string
	Key, Window, MapKey  []byte
	Start, End           int64
}

// UserStateReader reads and writes user state at the runner. The native harness
// implements it over the Fn API's State service, under the bundle's instruction id; rt
// only sees this interface, so it stays free of gRPC. Each call is one request (Get
// follows continuation tokens), answered before it returns, as the SDK harness's state
// readers and writers are.
type UserStateReader interface {
	// Get returns every page of the state at k, concatenated.
	Get(ctx context.Context, k UserStateKey) ([]byte, error)
	// Append appends data (whole encoded values) to the state at k.
	Append(ctx context.Context, k UserStateKey, data []byte) error
	// Clear clears the state at k.
	Clear(ctx context.Context, k UserStateKey) error
}

type userStateKey struct{}

// WithUserState returns ctx carrying the bundle's user state reader, as WithSideInputs.
func WithUserState(ctx context.Context, r UserStateReader) context.Context {
	return context.WithValue(ctx, userStateKey{}, r)
}

// UserStates is what a stage instance knows of one stateful ParDo's user state: the
// coders and combine functions of its states, from its ParDoPayload's state specs and
// the runner's coders, as exec's translate builds them for the SDK's userStateAdapter.
// Values are coded with the SDK's own element coders: user state holds any Go value the
// DoFn declares, and the SDK's coder writes the bytes the portable stage would.
type UserStates struct {
	transform string
	key       exec.ElementEncoder // the element key's coder: the input's KV key coder
	states    map[string]*userStateSpec
}

type userStateSpec struct {
	enc     exec.ElementEncoder
	dec     exec.ElementDecoder
	keyEnc  exec.ElementEncoder // map and set states: the map key's coder
	keyDec  exec.ElementDecoder
	combine *graph.CombineFn // combining states
}

// NewUserStates reads the state specs of the stateful ParDo named uniqueName (runner id
// transformID) from env.
func NewUserStates(env StageEnv, uniqueName, transformID string) (*UserStates, error) {
	payload, err := env.Payload(uniqueName)
	if err != nil {
		return nil, err
	}
	var pd pipepb.ParDoPayload
	if err := proto.Unmarshal(payload, &pd); err != nil {
		return nil, fmt.Errorf("sluice native: %s: decoding its ParDo payload: %w", uniqueName, err)
	}
	in, err := env.TransformCoder(uniqueName, false)
	if err != nil {
		return nil, fmt.Errorf("sluice native: %s: %w", uniqueName, err)
	}
	if in = coder.SkipW(in); !coder.IsKV(in) {
		return nil, fmt.Errorf("sluice native: %s: user state on an unkeyed input coded %v", uniqueName, in)
	}
	u := &UserStates{transform: transformID, key: exec.MakeElementEncoder(in.Components[0]), states: map[string]*userStateSpec{}}
	for id, spec := range pd.GetStateSpecs() {
		s, err := newUserStateSpec(env, spec)
		if err != nil {
			return nil, fmt.Errorf("sluice native: %s: state %q: %w", uniqueName, id, err)
		}
		u.states[id] = s
	}
	return u, nil
}

// newUserStateSpec picks a state's coders as exec's translate does: a set has no value
// coder, and the SDK codes its values (true) as bools.
func newUserStateSpec(env StageEnv, spec *pipepb.StateSpec) (*userStateSpec, error) {
	s := &userStateSpec{}
	var cID, kcID string
	switch {
	case spec.GetReadModifyWriteSpec() != nil:
		cID = spec.GetReadModifyWriteSpec().GetCoderId()
	case spec.GetBagSpec() != nil:
		cID = spec.GetBagSpec().GetElementCoderId()
	case spec.GetCombiningSpec() != nil:
		cs := spec.GetCombiningSpec()
		cID = cs.GetAccumulatorCoderId()
		fn, err := stateCombineFn(cs.GetCombineFn().GetPayload())
		if err != nil {
			return nil, err
		}
		s.combine = fn
	case spec.GetMapSpec() != nil:
		cID, kcID = spec.GetMapSpec().GetValueCoderId(), spec.GetMapSpec().GetKeyCoderId()
	case spec.GetSetSpec() != nil:
		kcID = spec.GetSetSpec().GetElementCoderId()
	case spec.GetOrderedListSpec() != nil:
		cID = spec.GetOrderedListSpec().GetElementCoderId()
	default:
		return nil, fmt.Errorf("unrecognized state type %v", spec)
	}
	c := &coder.Coder{Kind: coder.Bool}
	if cID != "" {
		var err error
		if c, err = env.Coder(cID); err != nil {
			return nil, err
		}
	}
	s.enc, s.dec = exec.MakeElementEncoder(coder.SkipW(c)), exec.MakeElementDecoder(coder.SkipW(c))
	if kcID != "" {
		kc, err := env.Coder(kcID)
		if err != nil {
			return nil, err
		}
		s.keyEnc, s.keyDec = exec.MakeElementEncoder(coder.SkipW(kc)), exec.MakeElementDecoder(coder.SkipW(kc))
	}
	return s, nil
}

// stateCombineFn decodes a combining state's CombineFn from its spec's payload.
func stateCombineFn(payload []byte) (*graph.CombineFn, error) {
	fn, err := userFn(payload)
	if err != nil {
		return nil, fmt.Errorf("its CombineFn: %w", err)
	}
	cfn, err := graph.AsCombineFn(fn)
	if err != nil {
		return nil, fmt.Errorf("its CombineFn: %w", err)
	}
	return cfn, nil
}

// errNoUserState is what a stateful chain gets from a harness that serves no user state.
var errNoUserState = errors.New("sluice native: the harness gave the bundle no user state reader")

// UserStateBundle is a stateful ParDo's user state in one bundle.
type UserStateBundle struct {
	u   *UserStates
	ctx context.Context
	r   UserStateReader
	buf bytes.Buffer
}

// Bundle starts the states' use in the bundle whose context (carrying its reader) is ctx.
func (u *UserStates) Bundle(ctx context.Context) (*UserStateBundle, error) {
	r, ok := ctx.Value(userStateKey{}).(UserStateReader)
	if !ok || r == nil {
		return nil, errNoUserState
	}
	return &UserStateBundle{u: u, ctx: ctx, r: r}, nil
}

// Provider is the state.Provider of one ProcessElement call on an element with the given
// key in window w (its one window: a chain runs a stateful DoFn once per window, as the
// SDK does). Like the SDK, each call gets a new provider: what it caches lasts the call,
// and every write goes to the runner at once.
func (b *UserStateBundle) Provider(key any, w Windows) (state.Provider, error) {
	b.buf.Reset()
	if err := b.u.key.Encode(&exec.FullValue{Elm: key}, &b.buf); err != nil {
		return nil, fmt.Errorf("sluice native: encoding the state key %v: %w", key, err)
	}
	k := bytes.Clone(b.buf.Bytes())
	var win []byte
	if w != GlobalWindow {
		if w.Len() != 1 {
			return nil, fmt.Errorf("sluice native: user state in %d windows, want one", w.Len())
		}
		win = []byte(w[4:]) // the interval window coder's bytes: the count goes
	}
	return newStateProvider(b, k, win), nil
}
