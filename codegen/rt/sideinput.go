package rt

import (
	"context"
	"errors"
	"fmt"
)

// SideInputReader reads a bundle's side inputs from the runner. The native harness
// implements it over the Fn API's State service (one per bundle: it knows the bundle's
// instruction id); rt only sees this interface, so it stays free of gRPC.
type SideInputReader interface {
	// Iterable returns every value of side input sideInputID (the ParDo's local name,
	// i1, i2, ...) of transform transformID in window (encoded by the side input's window
	// coder: empty for the global window), each value as its element coder writes it,
	// back to back: what an IterableSideInput state key's pages hold, concatenated.
	Iterable(ctx context.Context, transformID, sideInputID string, window []byte) ([]byte, error)
	// Multimap returns the values of a multimap side input under key (encoded by the key
	// coder, nested), back to back: a MultimapSideInput state key's pages, concatenated.
	Multimap(ctx context.Context, transformID, sideInputID string, key, window []byte) ([]byte, error)
}

type sideInputsKey struct{}

// WithSideInputs returns ctx carrying the bundle's side input reader: the harness hands
// it to the stage this way at StartBundle, so the Stage interface stays the same for
// chains that read none.
func WithSideInputs(ctx context.Context, r SideInputReader) context.Context {
	return context.WithValue(ctx, sideInputsKey{}, r)
}

// errNoSideInputs is what a chain reading a side input gets from a harness that serves none.
var errNoSideInputs = errors.New("sluice native: the harness gave the bundle no side input reader")

func sideInputs(ctx context.Context) (SideInputReader, error) {
	r, ok := ctx.Value(sideInputsKey{}).(SideInputReader)
	if !ok || r == nil {
		return nil, errNoSideInputs
	}
	return r, nil
}

// globalWindowKey is the global window as a side input state key names it: the global
// window coder writes no bytes.
var globalWindowKey = []byte{}

// IterableSideInput reads and decodes every value of an iterable side input (a
// singleton, Iter or ReIter parameter) in the global window, in the order the runner
// serves them. Chains read it once per bundle: the values do not change while the stage
// runs (the runner materializes side inputs before the stage's first bundle).
func IterableSideInput[T any](ctx context.Context, transformID, sideInputID string, decode func([]byte) (T, int, error)) ([]T, error) {
	r, err := sideInputs(ctx)
	if err != nil {
		return nil, err
	}
	data, err := r.Iterable(ctx, transformID, sideInputID, globalWindowKey)
	if err != nil {
		return nil, fmt.Errorf("sluice native: reading side input %s of %s: %w", sideInputID, transformID, err)
	}
	vs, err := decodeAll(data, decode)
	if err != nil {
		return nil, fmt.Errorf("sluice native: side input %s of %s: %w", sideInputID, transformID, err)
	}
	return vs, nil
}

// MultimapSideInput reads and decodes the values of a multimap side input under one
// key (appended by appendKey, the key coder) in the global window.
func MultimapSideInput[K, V any](ctx context.Context, transformID, sideInputID string, key K, appendKey func([]byte, K) []byte, decode func([]byte) (V, int, error)) ([]V, error) {
	r, err := sideInputs(ctx)
	if err != nil {
		return nil, err
	}
	data, err := r.Multimap(ctx, transformID, sideInputID, appendKey(nil, key), globalWindowKey)
	if err != nil {
		return nil, fmt.Errorf("sluice native: reading side input %s of %s at key %v: %w", sideInputID, transformID, key, err)
	}
	vs, err := decodeAll(data, decode)
	if err != nil {
		return nil, fmt.Errorf("sluice native: side input %s of %s at key %v: %w", sideInputID, transformID, key, err)
	}
	return vs, nil
}

// SingletonSideInput is the one value of a singleton side input, or the Go SDK's error
// when there is none or more than one (exec.makeSideInput).
func SingletonSideInput[T any](vs []T, typ string) (T, error) {
	if len(vs) != 1 {
		var zero T
		return zero, fmt.Errorf("got %d values, want one value for Singleton side input of type %s", len(vs), typ)
	}
	return vs[0], nil
}

func decodeAll[T any](data []byte, decode func([]byte) (T, int, error)) ([]T, error) {
	var vs []T
	for len(data) > 0 {
		v, n, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("decoding value %d: %w", len(vs), err)
		}
		if n <= 0 {
			return nil, fmt.Errorf("decoding value %d: the coder took no bytes", len(vs))
		}
		vs = append(vs, v)
		data = data[n:]
	}
	return vs, nil
}
