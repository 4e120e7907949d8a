package rt

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
)

// maxAccum is unexported, as accumulators the generated code cannot name are.
type maxAccum struct{ Max int64 }

type maxFn struct{}

func (maxFn) AddInput(ctx context.Context, a maxAccum, v int64) (maxAccum, error) {
	if v < 0 {
		return a, errors.New("negative")
	}
	return maxAccum{max(a.Max, v)}, nil
}

func (maxFn) MergeAccumulators(a, b maxAccum) maxAccum { return maxAccum{max(a.Max, b.Max)} }

func TestBoxed(t *testing.T) {
	fn, err := graph.NewCombineFn(maxFn{})
	if err != nil {
		t.Fatal(err)
	}
	c := &CombineFn{fn: fn}
	if z, ok := c.Zero().(maxAccum); !ok || z != (maxAccum{}) {
		t.Errorf("Zero() = %#v, want maxAccum{}", c.Zero())
	}
	add, err := Boxed[func(any, any, any) (any, any)](c, "AddInput")
	if err != nil {
		t.Fatal(err)
	}
	a, e := add(context.Background(), c.Zero(), int64(7))
	if a != (maxAccum{7}) || e != nil {
		t.Errorf("AddInput(0, 7) = %v, %v", a, e)
	}
	if _, e := add(context.Background(), a, int64(-1)); e == nil {
		t.Error("AddInput(-1) returned no error")
	}
	merge, err := Boxed[func(any, any) any](c, "MergeAccumulators")
	if err != nil {
		t.Fatal(err)
	}
	if m := merge(maxAccum{3}, maxAccum{5}); m != (maxAccum{5}) {
		t.Errorf("MergeAccumulators = %v", m)
	}
	if _, err := Boxed[func(any) any](c, "MergeAccumulators"); err == nil {
		t.Error("Boxed of the wrong arity: no error")
	}
	if _, err := Boxed[func() any](c, "CreateAccumulator"); err == nil {
		t.Error("Boxed of a missing method: no error")
	}
}

func TestBoxes(t *testing.T) {
	got, err := Boxes([]maxAccum{{1}, {2}})
	if err != nil || len(got) != 2 || got[1] != (maxAccum{2}) {
		t.Errorf("Boxes = %v, %v", got, err)
	}
	if _, err := Boxes(maxAccum{}); err == nil {
		t.Error("Boxes of a non-slice: no error")
	}
}
