package rt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
)

// GroupStateReader reads the values of a large group that the runner keeps in its state
// instead of sending them in the group's element: the element's iterable then ends in a
// token (Beam's state-backed iterable), and the values past the element's are read with
// it, a page at a time, as the Go SDK harness reads them. The native harness implements
// it over the Fn API's State service (a Runner state key, under the bundle's instruction
// id); rt only sees this interface, so it stays free of gRPC.
type GroupStateReader interface {
	// GroupPage returns the page of values after continuation (nil: the first page),
	// each as the group's value coder writes it, back to back (a value may continue in
	// the next page), and the continuation of the next page: nil after the last one.
	GroupPage(ctx context.Context, token, continuation []byte) (data, next []byte, err error)
}

type groupStateKey struct{}

// WithGroupState returns ctx carrying the bundle's group state reader.
func WithGroupState(ctx context.Context, r GroupStateReader) context.Context {
	return context.WithValue(ctx, groupStateKey{}, r)
}

// errNoGroupState is what a chain reading a large group gets from a harness that serves
// no group state.
var errNoGroupState = errors.New("sluice native: the harness gave the bundle no group state reader")

// GroupState returns the group state reader ctx carries (see WithGroupState).
func GroupState(ctx context.Context) (GroupStateReader, error) {
	r, ok := ctx.Value(groupStateKey{}).(GroupStateReader)
	if !ok || r == nil {
		return nil, errNoGroupState
	}
	return r, nil
}

// GroupStateBundle is implemented by the bundles of chains that read a large group's
// values from runner state themselves, as they iterate them: the harness hands them
// state-backed groups as they come, instead of reading every value first.
type GroupStateBundle interface {
	ReadsGroupState()
}

// Values are a group's values (a GroupByKey's output) as a generated chain reads them:
// the ones the group's element carries, decoded with it, then, for a group whose values
// continue in runner state, the rest, read and decoded a page at a time as they are
// iterated. A group larger than memory thus streams through a chain, as it does through
// the SDK harness.
type Values[V any] struct {
	// Inline are the values the element carries.
	Inline []V
	rest   *valuesRest[V] // nil: Inline is every value
}

// valuesRest is where a group's values past its element's are.
type valuesRest[V any] struct {
	token  []byte
	decode func([]byte) (V, int, error)
	ctx    context.Context // the bundle's (see Values.In), which carries its GroupStateReader
}

// ValuesOf returns the group of values vs.
func ValuesOf[V any](vs []V) Values[V] { return Values[V]{Inline: vs} }

// DecodeValues decodes a group's values, Beam iterable of values dec decodes, in any form
// the runner writes: a count then values, or blocks of values ended by a zero count or by
// a state token, behind which the rest is read as the values are iterated.
func DecodeValues[V any](b []byte, dec func([]byte) (V, int, error)) (Values[V], int, error) {
	vs, token, n, err := decodeIterable(b, dec)
	if err != nil {
		return Values[V]{}, 0, err
	}
	if token == nil {
		return Values[V]{Inline: vs}, n, nil
	}
	// The token outlives the harness's input block.
	return Values[V]{Inline: vs, rest: &valuesRest[V]{token: bytes.Clone(token), decode: dec}}, n, nil
}

// AppendValues appends vs as Beam's iterable of known length, each value as enc writes
// it; values in runner state are not read (only a runner sends groups that have some).
func AppendValues[V any](dst []byte, vs Values[V], enc func([]byte, V) []byte) []byte {
	return AppendIterable(dst, vs.Inline, enc)
}

// In returns vs reading its values in runner state, if any, with the GroupStateReader ctx
// (the bundle's context) carries.
func (vs Values[V]) In(ctx context.Context) Values[V] {
	if vs.rest != nil {
		vs.rest = &valuesRest[V]{token: vs.rest.token, decode: vs.rest.decode, ctx: ctx}
	}
	return vs
}

// Iter returns an iterator over the values, func(*V) bool as the SDK hands a DoFn grouped
// values: once through, false from then on. A failed read of runner state ends the
// iteration and goes to fail (the bundle's: it fails the bundle, as a failed state read
// fails the SDK harness's).
func (vs Values[V]) Iter(fail func(error)) func(*V) bool {
	i := 0
	var pages *valuesPages[V]
	done := false
	return func(p *V) bool {
		if done {
			return false
		}
		if i < len(vs.Inline) {
			*p = vs.Inline[i]
			i++
			return true
		}
		v, ok := vs.fromState(&pages, i, fail)
		if !ok {
			done = true
			return false
		}
		*p = v
		i++
		return true
	}
}

// All iterates the values with their index, as Iter does (the inline ones in a plain
// loop: a range over it costs what a range over a slice does).
func (vs Values[V]) All(fail func(error)) iter.Seq2[int, V] {
	return func(yield func(int, V) bool) {
		for i, v := range vs.Inline {
			if !yield(i, v) {
				return
			}
		}
		var pages *valuesPages[V]
		for i := len(vs.Inline); ; i++ {
			v, ok := vs.fromState(&pages, i, fail)
			if !ok || !yield(i, v) {
				return
			}
		}
	}
}

// fromState returns value i, the next of those in runner state (false past the last, or
// none), read with *pages, made at first use. A failed read goes to fail and ends the
// values.
func (vs Values[V]) fromState(pages **valuesPages[V], i int, fail func(error)) (V, bool) {
	if vs.rest == nil {
		var zero V
		return zero, false
	}
	if *pages == nil {
		*pages = &valuesPages[V]{rest: vs.rest}
	}
	v, ok, err := (*pages).next()
	if err != nil {
		fail(fmt.Errorf("sluice native: value %d of a group, in runner state: %w", i, err))
		return v, false
	}
	return v, ok
}

// valuesPages reads a group's values in runner state, one page at a time, the next page
// asked for while the values of the one before are used: the transfer overlaps the
// chain's work, as it does when a group comes whole on the data stream.
type valuesPages[V any] struct {
	rest *valuesRest[V]
	r    GroupStateReader
	data []byte // what is left of the pages read
	cont []byte // the next page's continuation
	read bool   // a page has been read (cont == nil then means there are no more)
	// ahead delivers the page at cont, asked for already (nil: not asked). Its goroutine
	// makes one request, bounded by the bundle's context, and never blocks on sending.
	ahead chan groupPage
}

type groupPage struct {
	data, cont []byte
	err        error
}

// next returns the next value, or false after the last.
func (p *valuesPages[V]) next() (V, bool, error) {
	var zero V
	for {
		if len(p.data) > 0 {
			v, n, err := p.rest.decode(p.data)
			if err == nil {
				p.data = p.data[n:]
				return v, true, nil
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) || p.read && p.cont == nil {
				return zero, false, err
			}
			// The value continues in the next page.
		} else if p.read && p.cont == nil {
			return zero, false, nil
		}
		if p.r == nil {
			if p.rest.ctx == nil {
				return zero, false, errors.New("sluice native: a group's values in runner state, read outside a bundle")
			}
			r, err := GroupState(p.rest.ctx)
			if err != nil {
				return zero, false, err
			}
			p.r = r
		}
		var pg groupPage
		if p.ahead != nil {
			pg, p.ahead = <-p.ahead, nil
		} else {
			pg.data, pg.cont, pg.err = p.r.GroupPage(p.rest.ctx, p.rest.token, p.cont)
		}
		if pg.err != nil {
			return zero, false, pg.err
		}
		if pg.cont != nil {
			p.ahead = make(chan groupPage, 1)
			go func(r GroupStateReader, ctx context.Context, token, cont []byte, out chan<- groupPage) {
				var pg groupPage
				pg.data, pg.cont, pg.err = r.GroupPage(ctx, token, cont)
				out <- pg
			}(p.r, p.rest.ctx, p.rest.token, pg.cont, p.ahead)
		}
		page := pg.data
		if len(p.data) > 0 {
			// A fresh buffer: decoded values (bytes) may alias it.
			page = append(append(make([]byte, 0, len(p.data)+len(page)), p.data...), page...)
		}
		p.data, p.cont, p.read = page, pg.cont, true
	}
}
