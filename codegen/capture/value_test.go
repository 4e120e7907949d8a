package capture

import (
	"reflect"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/coderx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
)

// count is a named int type, coded with varintz like int.
type count int

type point struct{ X, Y int }

func varIntZ[T any](t *testing.T) *coder.Coder {
	t.Helper()
	rt := reflect.TypeFor[T]()
	cc, err := coderx.NewVarIntZ(rt)
	if err != nil {
		t.Fatal(err)
	}
	return &coder.Coder{Kind: coder.Custom, T: typex.New(rt), Custom: cc}
}

func TestValueOf(t *testing.T) {
	row := coder.NewR(typex.New(reflect.TypeFor[point]()))
	leaf := func(kind, pkg, typ string) Value { return Value{Kind: kind, Pkg: pkg, Type: typ} }
	for name, c := range map[string]struct {
		coder *coder.Coder
		want  Value
	}{
		"string":  {coder.NewString(), leaf(ValueString, "", "string")},
		"bytes":   {coder.NewBytes(), leaf(ValueBytes, "", "[]uint8")},
		"int64":   {coder.NewVarInt(), leaf(ValueVarInt, "", "int64")},
		"float64": {coder.NewDouble(), leaf(ValueDouble, "", "float64")},
		"bool":    {coder.NewBool(), leaf(ValueBool, "", "bool")},
		"named int": {varIntZ[count](t),
			leaf(ValueVarIntZ, "github.com/sluice-runner/sluice/codegen/capture", "count")},
		"kv": {coder.NewKV([]*coder.Coder{coder.NewString(), varIntZ[int](t)}),
			Value{Kind: ValueKV, Components: []Value{leaf(ValueString, "", "string"), leaf(ValueVarIntZ, "", "int")}}},
		"iterable": {coder.NewI(coder.NewBytes()),
			Value{Kind: ValueIterable, Components: []Value{leaf(ValueBytes, "", "[]uint8")}}},
		"cogbk": {coder.NewCoGBK([]*coder.Coder{coder.NewString(), coder.NewVarInt(), coder.NewBool()}),
			Value{Kind: ValueCoGBK, Components: []Value{leaf(ValueString, "", "string"), leaf(ValueVarInt, "", "int64"), leaf(ValueBool, "", "bool")}}},
		"row": {row, leaf(ValueOpaque, "github.com/sluice-runner/sluice/codegen/capture", "point")},
	} {
		if got := valueOf(c.coder); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", name, got, c.want)
		}
	}
}

// Record describes every port's value: the counted words travel as KV<string, int>.
func TestRecordValues(t *testing.T) {
	c := record(t, "!")
	for _, e := range c.Edges {
		if e.Op != "CoGBK" || e.Scope == "" {
			continue
		}
		want := Value{Kind: ValueKV, Components: []Value{{Kind: ValueString, Type: "string"}, {Kind: ValueVarIntZ, Type: "int"}}}
		if got := e.Inputs[0].Value; !reflect.DeepEqual(got, want) {
			t.Errorf("%s %s input value %+v, want %+v", e.ID, e.Scope, got, want)
		}
		return
	}
	t.Fatalf("no CoGBK in the capture:\n%s", c.Summary())
}
