package capture

import (
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
)

// Value kinds: the codings codegen/rt encodes and decodes with Go types, and ValueOpaque
// for any other (a stage whose edges carry one stays portable).
const (
	ValueBytes    = "bytes"    // []byte (or a named type over it), Beam bytes coder
	ValueString   = "string"   // string, string_utf8
	ValueVarInt   = "varint"   // int64, Beam varint
	ValueVarIntZ  = "varintz"  // a signed int type, the Go SDK's custom varintz coder
	ValueDouble   = "double"   // float64
	ValueBool     = "bool"     // bool
	ValueKV       = "kv"       // key and value: two components
	ValueIterable = "iterable" // a Beam iterable of the one component
	ValueCoGBK    = "cogbk"    // a grouped key: the key, then one iterable component per input
	ValueOpaque   = "opaque"   // a coding rt does not know (rows, other custom coders, ...)
)

// Value is how a PCollection's elements look in Go and how they are encoded: the tree the
// generator turns into typed code. Composite kinds (kv, iterable, cogbk) have no Go type of
// their own in the Go SDK; their components do.
type Value struct {
	Kind string `json:"kind"`
	// Pkg and Type name the Go type of a leaf: its package path and name for a named
	// type, else an empty Pkg and the type's literal ("string", "[]uint8").
	Pkg        string  `json:"pkg,omitempty"`
	Type       string  `json:"type,omitempty"`
	Components []Value `json:"components,omitempty"`
}

// valueOf describes the elements coded by c.
func valueOf(c *coder.Coder) Value {
	if c == nil {
		return Value{Kind: ValueOpaque}
	}
	leaf := func(kind string) Value {
		v := Value{Kind: kind}
		if c.T != nil {
			v.Pkg, v.Type = goTypeName(c.T.Type())
		}
		return v
	}
	switch c.Kind {
	case coder.Bytes:
		return leaf(ValueBytes)
	case coder.String:
		return leaf(ValueString)
	case coder.VarInt:
		return leaf(ValueVarInt)
	case coder.Double:
		return leaf(ValueDouble)
	case coder.Bool:
		return leaf(ValueBool)
	case coder.Custom:
		if c.Custom != nil && c.Custom.Name == "varintz" {
			return leaf(ValueVarIntZ)
		}
	case coder.KV, coder.Iterable, coder.CoGBK:
		kind := map[coder.Kind]string{coder.KV: ValueKV, coder.Iterable: ValueIterable, coder.CoGBK: ValueCoGBK}[c.Kind]
		v := Value{Kind: kind}
		for _, comp := range c.Components {
			v.Components = append(v.Components, valueOf(comp))
		}
		return v
	}
	return leaf(ValueOpaque)
}

// goTypeName splits a Go type into the package path and name the generator refers to it by.
func goTypeName(t reflect.Type) (pkg, name string) {
	if t == nil {
		return "", ""
	}
	if t.Name() != "" && t.PkgPath() != "" {
		return t.PkgPath(), t.Name()
	}
	return "", t.String()
}
