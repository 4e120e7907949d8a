package rt

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluice-runner/sluice/runner/wire"
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

// SideWindowFn maps a main input window to the window of a side input to read, as the Go
// SDK's exec windowMapper does: the side input's window fn assigns the main window's last
// timestamp, and the earliest of the windows it gives is the one read. Size and Period
// are the side input's fixed (Period 0) or sliding windows in milliseconds; the zero
// SideWindowFn is the global window's.
type SideWindowFn struct {
	Size, Period int64
}

// Map returns the side input window of main input windows ws (one window: a DoFn reading
// windowed side inputs is called once per window), encoded as the side input state key
// names it: nothing for the global window, else the interval window coder's bytes.
func (f SideWindowFn) Map(ws Windows) ([]byte, error) {
	if f.Size == 0 {
		return nil, nil
	}
	if n := ws.Len(); n != 1 {
		return nil, fmt.Errorf("sluice native: side inputs read in %d windows at once, want one", n)
	}
	last := wire.EndOfGlobalWindowTime // the global window's last timestamp
	if ws != GlobalWindow {
		w, _ := decodeWellFormed([]byte(ws[4:]))
		last = w.End - 1
	}
	var cands Windows
	if f.Period == 0 {
		cands = AssignFixed(last, f.Size)
	} else {
		cands = AssignSliding(last, f.Size, f.Period)
	}
	if cands.Len() == 0 {
		return nil, fmt.Errorf("sluice native: no side input window (size %d ms, period %d ms) holds %d, the end of main input window %v", f.Size, f.Period, last, ws)
	}
	// The earliest candidate: assignment gives the latest first.
	rest := []byte(cands[4:])
	for {
		_, n := decodeWellFormed(rest)
		if n == len(rest) {
			return rest, nil
		}
		rest = rest[n:]
	}
}

// IterableSideInput reads and decodes every value of an iterable side input (a
// singleton, Iter or ReIter parameter) in window (see SideWindowFn.Map), in the order the
// runner serves them. Chains read it once per bundle and window: the values do not change
// while the stage runs (the runner materializes side inputs before the stage's first
// bundle).
func IterableSideInput[T any](ctx context.Context, transformID, sideInputID string, window []byte, decode func([]byte) (T, int, error)) ([]T, error) {
	r, err := sideInputs(ctx)
	if err != nil {
		return nil, err
	}
	data, err := r.Iterable(ctx, transformID, sideInputID, window)
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
// key (appended by appendKey, the key coder) in window (see SideWindowFn.Map).
func MultimapSideInput[K, V any](ctx context.Context, transformID, sideInputID string, key K, window []byte, appendKey func([]byte, K) []byte, decode func([]byte) (V, int, error)) ([]V, error) {
	r, err := sideInputs(ctx)
	if err != nil {
		return nil, err
	}
	data, err := r.Multimap(ctx, transformID, sideInputID, appendKey(nil, key), window)
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
