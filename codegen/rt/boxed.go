package rt

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
)

// BoxedDoFn is a ParDo's DoFn as the SDK harness decodes it from the transform's payload
// (exec/translate.go: graph.AsDoFn of the decoded function or struct), for a chain step
// whose ProcessElement takes or returns values of a type the generated code cannot name:
// the step calls it with any values through the SDK's own caller of it.
type BoxedDoFn struct {
	fn *graph.DoFn
}

// DecodeBoxedDoFn decodes the DoFn of a ParDo whose payload is a ParDoPayload. A chain
// decodes its own per stage instance, as the SDK harness decodes one per transform.
func DecodeBoxedDoFn(payload []byte) (*BoxedDoFn, error) {
	fn, err := parDoFn(payload)
	if err != nil {
		return nil, fmt.Errorf("sluice native: a DoFn: %w", err)
	}
	dofn, err := graph.AsDoFn(fn, graph.MainUnknown)
	if err != nil {
		return nil, fmt.Errorf("sluice native: decoding a DoFn: %w", err)
	}
	return &BoxedDoFn{fn: dofn}, nil
}

// Recv is the DoFn's struct (its lifecycle methods are those the step calls on it), nil
// for a function DoFn.
func (d *BoxedDoFn) Recv() any { return d.fn.Recv }

// ProcessElement returns the DoFn's ProcessElement (the function itself, for a function
// DoFn) as a function of its arguments and results as any values, in the order of its
// signature. It is the SDK's caller of it (the one register.Function* or register.DoFn*
// generated, if the program registered it; a reflective one otherwise), bound to Recv
// for a struct.
func (d *BoxedDoFn) ProcessElement() (func([]any) []any, error) {
	pe := d.fn.ProcessElementFn()
	if pe == nil {
		return nil, fmt.Errorf("sluice native: DoFn %s has no ProcessElement", d.fn.Name())
	}
	return pe.Fn.Call, nil
}
