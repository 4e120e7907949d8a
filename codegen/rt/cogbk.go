package rt

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
)

// A CoGroupByKey over several inputs reaches a portable runner as the Go SDK marshals it
// (graphx/cogbk.go): each input KV<K, V_i> goes through an Inject ParDo that turns its
// value into a raw union value KV<i, the value's encoding>, the injected inputs are
// flattened and grouped, and an Expand ParDo hands each group's values back per input
// (exec/cogbk.go). Union, AppendUnion and DecodeUnion are that raw union value as it
// travels: KV<varintz int, bytes>.

// Union is a raw union value: the index of the CoGroupByKey input it comes from and its
// value as that input's value coder writes it (the SDK's element encoding).
type Union struct {
	N   int
	Raw []byte
}

// AppendUnion appends the SDK's union coder: the index with the varintz coder (a custom
// coder, so length-prefixed), then the raw value with the bytes coder.
func AppendUnion(dst []byte, u Union) []byte {
	return AppendBytes(AppendVarIntZ(dst, u.N), u.Raw)
}

// DecodeUnion decodes a raw union value; its Raw aliases b.
func DecodeUnion(b []byte) (Union, int, error) {
	n, i, err := DecodeVarIntZ[int](b)
	if err != nil {
		return Union{}, 0, err
	}
	raw, m, err := DecodeBytes(b[i:])
	if err != nil {
		return Union{}, 0, err
	}
	return Union{N: n, Raw: raw}, i + m, nil
}

// InjectValueCoder is the coder the SDK's Inject encodes a value with, given the coder of
// the PCollection it reads (a KV, windows aside): the value's, without a length prefix the
// runner may have put around it (exec's translation strips one, BEAM-12438).
func InjectValueCoder(c *coder.Coder) (*coder.Coder, error) {
	c = coder.SkipW(c)
	if !coder.IsKV(c) {
		return nil, fmt.Errorf("sluice native: an inject reads %v, want a KV", c)
	}
	v := c.Components[1]
	if v.Kind == coder.LP {
		v = v.Components[0]
	}
	return v, nil
}

// ExpandValueCoders are the coders the SDK's Expand decodes each input's values with,
// given the coder of the PCollection it writes: a CoGBK's value coders, in input order.
func ExpandValueCoders(c *coder.Coder) ([]*coder.Coder, error) {
	c = coder.SkipW(c)
	if !coder.IsCoGBK(c) {
		return nil, fmt.Errorf("sluice native: an expand writes %v, want a CoGBK", c)
	}
	return c.Components[1:], nil
}

// CoGBKValueCoders are the SDK's coders of the values a CoGroupByKey's inject (its
// input's value: one coder) or expand (each input's values, in input order) codes, from
// the coder of the PCollection the named transform reads or writes in the runner's
// descriptor. Generated chains code with them the values rt has no typed coder for.
func CoGBKValueCoders(env StageEnv, transform string, expand bool) ([]*coder.Coder, error) {
	c, err := env.TransformCoder(transform, expand)
	if err != nil {
		return nil, fmt.Errorf("sluice native: %s: %w", transform, err)
	}
	if expand {
		return ExpandValueCoders(c)
	}
	v, err := InjectValueCoder(c)
	if err != nil {
		return nil, err
	}
	return []*coder.Coder{v}, nil
}
