// Package ratio holds a CombineFn whose accumulator the generated file cannot name (an
// unexported type) and whose methods take contexts and return errors: the chain calls
// them through the SDK's callers, with any values.
package ratio

import (
	"context"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*evenFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf(evens{}))
}

// evens counts the even values among all.
type evens struct {
	Even, All int64
}

// evenFn is the share of even values, in percent, as a string.
type evenFn struct {
	Label string
}

func (f *evenFn) CreateAccumulator(ctx context.Context) (evens, error) { return evens{}, nil }

func (f *evenFn) AddInput(ctx context.Context, a evens, v int64) (evens, error) {
	if ctx == nil {
		return a, fmt.Errorf("AddInput without a context")
	}
	a.All++
	if v%2 == 0 {
		a.Even++
	}
	return a, nil
}

func (f *evenFn) MergeAccumulators(ctx context.Context, a, b evens) (evens, error) {
	return evens{Even: a.Even + b.Even, All: a.All + b.All}, nil
}

func (f *evenFn) ExtractOutput(ctx context.Context, a evens) (string, error) {
	if a.All == 0 {
		return "", fmt.Errorf("no values")
	}
	return fmt.Sprintf("%s %d%%", f.Label, 100*a.Even/a.All), nil
}

// EvenPerKey is the share of even values per key of col, a PCollection<KV<K, int64>>.
func EvenPerKey(s beam.Scope, label string, col beam.PCollection) beam.PCollection {
	return beam.CombinePerKey(s.Scope("EvenPerKey"), &evenFn{Label: label}, col)
}
