package rt

import (
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
)

func scale(v int64, a maxAccum) maxAccum { return maxAccum{a.Max * v} }

// seenFn records what it was given: its ProcessElement must be bound to Recv.
type seenFn struct{ Seen []maxAccum }

func (f *seenFn) ProcessElement(a maxAccum) { f.Seen = append(f.Seen, a) }

func boxedDoFn(t *testing.T, fn any) *BoxedDoFn {
	t.Helper()
	gfn, err := graph.NewFn(fn)
	if err != nil {
		t.Fatal(err)
	}
	dofn, err := graph.AsDoFn(gfn, graph.MainUnknown)
	if err != nil {
		t.Fatal(err)
	}
	return &BoxedDoFn{fn: dofn}
}

func TestBoxedDoFn(t *testing.T) {
	d := boxedDoFn(t, scale)
	if d.Recv() != nil {
		t.Errorf("Recv() of a function DoFn = %v, want nil", d.Recv())
	}
	call, err := d.ProcessElement()
	if err != nil {
		t.Fatal(err)
	}
	if got := call([]any{int64(3), maxAccum{2}}); len(got) != 1 || got[0] != (maxAccum{6}) {
		t.Errorf("scale(3, {2}) = %v, want [{6}]", got)
	}

	d = boxedDoFn(t, &seenFn{})
	call, err = d.ProcessElement()
	if err != nil {
		t.Fatal(err)
	}
	if got := call([]any{maxAccum{4}}); len(got) != 0 {
		t.Errorf("ProcessElement returned %v, want nothing", got)
	}
	if s := d.Recv().(*seenFn).Seen; len(s) != 1 || s[0] != (maxAccum{4}) {
		t.Errorf("Recv saw %v, want [{4}]: ProcessElement is not bound to it", s)
	}
}

func TestDecodeBoxedDoFnBadPayload(t *testing.T) {
	if _, err := DecodeBoxedDoFn([]byte{0xff}); err == nil {
		t.Error("DecodeBoxedDoFn of a bad payload: no error")
	}
}
