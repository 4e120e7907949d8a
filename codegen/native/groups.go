package native

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sluice-runner/sluice/codegen/rt"
	"github.com/sluice-runner/sluice/runner/wire"
)

// groupedInput finds, in a stage input of groups (KV<K, iterable<V>>), the groups whose
// values the runner left in its state past the element's inline part: their iterable
// ends in a state token (see rt.GroupStateReader). A chain whose bundles decode such
// values themselves (rt.GroupStateBundle) reads them page by page as it iterates; for
// the others the harness reads the rest and hands the chain the group with every value
// inline, as the runner sends smaller groups.
type groupedInput struct {
	codec  *wire.WindowedValueCodec
	key    wire.Codec
	values *wire.IterableCodec
}

// newGroupedInput returns the groupedInput of a stage input coded by codec, or nil if its
// elements are not groups.
func newGroupedInput(codec *wire.WindowedValueCodec) *groupedInput {
	if codec == nil {
		return nil
	}
	kv, ok := codec.KV()
	if !ok {
		return nil
	}
	values, ok := kv.Value.(*wire.IterableCodec)
	if !ok {
		return nil
	}
	return &groupedInput{codec: codec, key: kv.Key, values: values}
}

// stateBacked returns the length of the element at the start of b if its values end in
// a state token, and 0 if they are all inline (the chain decodes it as it is). It returns
// an error wrapping io.ErrUnexpectedEOF if b holds only the start of a state-backed
// element, which then continues in the next block.
func (g *groupedInput) stateBacked(b []byte) (int, error) {
	n, err := g.codec.SkipHeader(b)
	if err != nil {
		return 0, err
	}
	k, err := g.key.Skip(b[n:])
	if err != nil {
		return 0, err
	}
	n += k
	if len(b) < n+4 {
		return 0, io.ErrUnexpectedEOF
	}
	if int32(binary.BigEndian.Uint32(b[n:])) != -1 {
		return 0, nil // a count: every value is inline (the runner's chunked form has a token)
	}
	tok, err := g.values.StateToken(b[n:])
	if err != nil || tok == nil {
		return 0, err
	}
	m, err := g.values.Skip(b[n:])
	if err != nil {
		return 0, err
	}
	return n + m, nil
}

// inline returns the state-backed element elem (whole, see stateBacked) with every value
// inline: its own, then those read from r with its token, as an iterable of known count.
func (g *groupedInput) inline(ctx context.Context, r rt.GroupStateReader, elem []byte) ([]byte, error) {
	n, err := g.codec.SkipHeader(elem)
	if err != nil {
		return nil, err
	}
	k, err := g.key.Skip(elem[n:])
	if err != nil {
		return nil, err
	}
	n += k
	tok, err := g.values.StateToken(elem[n:])
	if err != nil {
		return nil, err
	}
	out := append(make([]byte, 0, 2*len(elem)), elem[:n]...)
	countAt := len(out)
	out = append(out, 0, 0, 0, 0)
	count := 0
	if _, err := g.values.ForEach(elem[n:], func(v []byte) error {
		out, count = append(out, v...), count+1
		return nil
	}); err != nil && !errors.Is(err, wire.ErrStateBacked) {
		return nil, err
	}
	var carry, next []byte // carry: a value cut at a page's end
	for page := 0; ; page++ {
		data, cont, err := r.GroupPage(ctx, tok, next)
		if err != nil {
			return nil, fmt.Errorf("reading page %d of a group's values from runner state: %w", page, err)
		}
		if len(carry) > 0 {
			data = append(carry, data...)
		}
		for len(data) > 0 {
			m, err := g.values.Elem.Skip(data)
			if errors.Is(err, io.ErrUnexpectedEOF) && cont != nil {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("value %d of a group, read from runner state: %w", count, err)
			}
			out, count, data = append(out, data[:m]...), count+1, data[m:]
		}
		carry = append(carry[:0], data...)
		if next = cont; next == nil {
			break
		}
	}
	if count > math.MaxInt32 {
		return nil, fmt.Errorf("a group of %d values: more than an iterable of known count holds", count)
	}
	binary.BigEndian.PutUint32(out[countAt:], uint32(count))
	return out, nil
}

// inlined returns elem, a whole element, with every value inline if they continue in
// runner state (read with the reader ctx carries), or elem itself.
func (g *groupedInput) inlined(ctx context.Context, elem []byte) ([]byte, error) {
	size, err := g.stateBacked(elem)
	if err != nil || size == 0 {
		return elem, err
	}
	r, err := rt.GroupState(ctx)
	if err != nil {
		return nil, err
	}
	return g.inline(ctx, r, elem)
}
