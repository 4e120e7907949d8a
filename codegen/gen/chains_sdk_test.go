package gen

import (
	"testing"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// partsOf lays parts out where the SDK's KV decoders put them: a KV's key and value at
// the top, a splittable DoFn's sized element nested, its element elided when single and a
// nested FullValue when a KV.
func TestPartsOf(t *testing.T) {
	str := capture.Value{Kind: capture.ValueString, Type: "string"}
	num := capture.Value{Kind: capture.ValueVarInt, Type: "int64"}
	rest := capture.Value{Kind: capture.ValueOpaque, Pkg: "x/offsetrange", Type: "Restriction"}
	wes := capture.Value{Kind: capture.ValueBool, Type: "bool"}
	size := capture.Value{Kind: capture.ValueDouble, Type: "float64"}
	kv := capture.Value{Kind: capture.ValueKV, Components: []capture.Value{str, num}}
	sized := func(elem capture.Value) capture.Value {
		return capture.Value{Kind: valueSized, Components: []capture.Value{
			{Kind: valuePaired, Components: []capture.Value{elem, rest, wes}}, size}}
	}
	var show func(*fvShape) string
	show = func(sh *fvShape) string {
		if sh.key == nil {
			return string(rune('0' + sh.part))
		}
		return "(" + show(sh.key) + " " + show(sh.val) + ")"
	}
	for _, tc := range []struct {
		v     capture.Value
		parts int
		shape string
	}{
		{str, 1, "0"},
		{kv, 2, "(0 1)"},
		{sized(str), 4, "((0 (1 2)) 3)"},
		{sized(kv), 5, "(((0 1) (2 3)) 4)"},
	} {
		parts, sh := partsOf(tc.v)
		if len(parts) != tc.parts || show(sh) != tc.shape {
			t.Errorf("partsOf(%s): %d parts, shape %s; want %d, %s", tc.v.Kind, len(parts), show(sh), tc.parts, tc.shape)
		}
	}
}

func TestIterElem(t *testing.T) {
	for _, tc := range []struct {
		kind, typ, want string
	}{
		{"Iter", "func(*string) bool", "string"},
		{"Iter", "func(*github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex.T) bool", "github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex.T"},
		{"ReIter", "func() func(*int) bool", "int"},
		{"Iter", "func(*string, *int) bool", ""},
		{"Iter", "func(string) bool", ""},
		{"ReIter", "func(*int) bool", ""},
	} {
		typ, err := parseType(tc.typ)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if e := iterElem(sigPart{kind: tc.kind, typ: typ}); e != nil {
			got = e.str
		}
		if got != tc.want {
			t.Errorf("iterElem(%s %s) = %q, want %q", tc.kind, tc.typ, got, tc.want)
		}
	}
}
