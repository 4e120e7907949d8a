package rt

import (
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/funcx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/util/reflectx"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"
)

// CombineFn is a CombineFn as the SDK harness decodes it from a combine's payload: the
// struct the pipeline built (its configuration restored as the SDK restores it), or the
// merge function, with the SDK's callers of its methods. A chain decodes its own per
// stage instance, as the SDK harness decodes one per transform.
type CombineFn struct {
	fn *graph.CombineFn
}

// DecodeCombineFn decodes the CombineFn of a lifted combine's part (precombine, merge,
// extract), whose payload is a CombinePayload.
func DecodeCombineFn(payload []byte) (*CombineFn, error) {
	var cp pipepb.CombinePayload
	if err := proto.Unmarshal(payload, &cp); err != nil {
		return nil, fmt.Errorf("sluice native: decoding a CombinePayload: %w", err)
	}
	fn, err := userFn(cp.GetCombineFn().GetPayload())
	if err != nil {
		return nil, fmt.Errorf("sluice native: a CombineFn: %w", err)
	}
	return asCombineFn(fn)
}

// DecodeCombineFnParDo decodes the CombineFn of a combine the planner did not lift: the
// ParDo of the composite's expansion, whose payload is a ParDoPayload.
func DecodeCombineFnParDo(payload []byte) (*CombineFn, error) {
	fn, err := parDoFn(payload)
	if err != nil {
		return nil, fmt.Errorf("sluice native: a CombineFn: %w", err)
	}
	return asCombineFn(fn)
}

func asCombineFn(fn *graph.Fn) (*CombineFn, error) {
	cf, err := graph.AsCombineFn(fn)
	if err != nil {
		return nil, fmt.Errorf("sluice native: decoding a CombineFn: %w", err)
	}
	return &CombineFn{fn: cf}, nil
}

// Recv is the CombineFn's struct (as DoFn returns a DoFn's), nil for a merge function.
func (c *CombineFn) Recv() any { return c.fn.Recv }

// Zero is the accumulator the SDK starts from when the CombineFn has no
// CreateAccumulator: the zero value of MergeAccumulators' result type.
func (c *CombineFn) Zero() any {
	return reflect.Zero(c.fn.MergeAccumulatorsFn().Ret[0].T).Interface()
}

// Boxed returns the named method of c (CreateAccumulator, AddInput, MergeAccumulators or
// ExtractOutput) as F, a function of any values with the method's arity: for values the
// generated code cannot name. It calls the method as the SDK's invokers do, through the
// SDK's caller of it (the one register.Combiner* generated, if the program registered
// the CombineFn); a context parameter is passed, and an error result returned, as any.
func Boxed[F any](c *CombineFn, method string) (F, error) {
	var zero F
	var fx *funcx.Fn
	switch method {
	case "CreateAccumulator":
		fx = c.fn.CreateAccumulatorFn()
	case "AddInput":
		fx = c.fn.AddInputFn()
	case "MergeAccumulators":
		fx = c.fn.MergeAccumulatorsFn()
	case "ExtractOutput":
		fx = c.fn.ExtractOutputFn()
	}
	if fx == nil {
		return zero, fmt.Errorf("sluice native: CombineFn %s has no method %s", c.fn.Name(), method)
	}
	f := fx.Fn
	in, out := f.Type().NumIn(), f.Type().NumOut()
	var got any
	switch p := any(&zero).(type) {
	case *func() any:
		if in == 0 && out == 1 {
			*p, got = reflectx.ToFunc0x1(f).Call0x1, p
		}
	case *func() (any, any):
		if in == 0 && out == 2 {
			*p, got = reflectx.ToFunc0x2(f).Call0x2, p
		}
	case *func(any) any:
		if in == 1 && out == 1 {
			*p, got = reflectx.ToFunc1x1(f).Call1x1, p
		}
	case *func(any) (any, any):
		if in == 1 && out == 2 {
			*p, got = reflectx.ToFunc1x2(f).Call1x2, p
		}
	case *func(any, any) any:
		if in == 2 && out == 1 {
			*p, got = reflectx.ToFunc2x1(f).Call2x1, p
		}
	case *func(any, any) (any, any):
		if in == 2 && out == 2 {
			*p, got = reflectx.ToFunc2x2(f).Call2x2, p
		}
	case *func(any, any, any) any:
		if in == 3 && out == 1 {
			*p, got = reflectx.ToFunc3x1(f).Call3x1, p
		}
	case *func(any, any, any) (any, any):
		if in == 3 && out == 2 {
			*p, got = reflectx.ToFunc3x2(f).Call3x2, p
		}
	}
	if got == nil {
		return zero, fmt.Errorf("sluice native: %s.%s is a %v, not callable as %v", c.fn.Name(), method, f.Type(), reflect.TypeFor[F]())
	}
	return zero, nil
}

// Boxes returns the values of a slice the SDK's coder decoded (an iterable of a type
// the generated code cannot name) as any values.
func Boxes(slice any) ([]any, error) {
	v := reflect.ValueOf(slice)
	if v.Kind() != reflect.Slice {
		return nil, fmt.Errorf("sluice native: the SDK's coder gave a %T, want a slice", slice)
	}
	out := make([]any, v.Len())
	for i := range out {
		out[i] = v.Index(i).Interface()
	}
	return out, nil
}
