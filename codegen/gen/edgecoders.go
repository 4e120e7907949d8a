package gen

import (
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/runner/wire"
)

// rtPath is the runtime package the generated code calls.
const rtPath = "github.com/sluice-runner/sluice/codegen/rt"

// urnGoCustom is the Go SDK's own coder: a custom coder the runner does not know.
const urnGoCustom = "beam:go:coder:custom:v1"

// leafCoders are the value kinds rt codes as one Go value: the wire URN each must travel
// as, and rt's function suffix (AppendX/DecodeX).
var leafCoders = map[string]struct{ urn, rt string }{
	capture.ValueBytes:   {wire.URNBytes, "Bytes"},
	capture.ValueString:  {wire.URNStringUTF8, "String"},
	capture.ValueVarInt:  {wire.URNVarInt, "VarInt"},
	capture.ValueDouble:  {wire.URNDouble, "Double"},
	capture.ValueBool:    {wire.URNBool, "Bool"},
	capture.ValueVarIntZ: {urnGoCustom, "VarIntZ"},
	valueUnion:           {wire.URNKV, "Union"}, // see matchesUnion
}

// EdgeCoder is the typed coder generated for one edge's elements: the element's parts
// (a KV is two) in wire order, each a leaf or an iterable of leaves.
type EdgeCoder struct {
	Name  string // Go identifier suffix, from the edge's stages: sluiceAppend<Name>, sluiceDecode<Name>
	Parts []capture.Value
}

// edgeCoder returns the typed coder of an edge whose elements are v and travel as the
// windowed_value coder wireID, or why there is none.
func edgeCoder(comps *pipepb.Components, wireID string, v *capture.Value, name string) (*EdgeCoder, string) {
	if v == nil {
		return nil, "the capture has no Go type for it (a PCollection made when the pipeline was marshalled or planned)"
	}
	if v.Kind == valuePaired || v.Kind == valueSized {
		return nil, "a splittable DoFn's element with its restriction (its own type): the SDK's coder codes it"
	}
	wv := comps.GetCoders()[wireID]
	if wv.GetSpec().GetUrn() != wire.URNWindowedValue || len(wv.GetComponentCoderIds()) != 2 {
		return nil, "its wire coder is not a windowed value"
	}
	// The header (and so the window coder) is rt's: global or interval windows.
	if urn := comps.GetCoders()[wv.GetComponentCoderIds()[1]].GetSpec().GetUrn(); urn != wire.URNGlobalWindow && urn != wire.URNIntervalWindow {
		return nil, fmt.Sprintf("window coder %s: %s", urn, "not generated yet")
	}
	elem := wv.GetComponentCoderIds()[0]
	parts := []capture.Value{*v}
	ids := []string{elem}
	if v.Kind == capture.ValueKV {
		c := comps.GetCoders()[elem]
		if c.GetSpec().GetUrn() != wire.URNKV || len(v.Components) != 2 || len(c.GetComponentCoderIds()) != 2 {
			return nil, "its KV does not match its wire coder"
		}
		parts, ids = v.Components, c.GetComponentCoderIds()
	}
	for i, p := range parts {
		if why := matches(comps, ids[i], p); why != "" {
			return nil, why
		}
	}
	return &EdgeCoder{Name: name, Parts: parts}, ""
}

// matches says why value v cannot be coded as wire coder id ("" if it can): a leaf rt
// knows, or an iterable of one.
func matches(comps *pipepb.Components, id string, v capture.Value) string {
	c := comps.GetCoders()[id]
	urn := c.GetSpec().GetUrn()
	if v.Kind == capture.ValueIterable {
		if urn != wire.URNIterable || len(v.Components) != 1 || len(c.GetComponentCoderIds()) != 1 {
			return "an iterable that does not match its wire coder"
		}
		if v.Components[0].Kind == capture.ValueIterable {
			return "nested iterables are not generated yet"
		}
		return matches(comps, c.GetComponentCoderIds()[0], v.Components[0])
	}
	if v.Kind == valueUnion {
		return matchesUnion(comps, id)
	}
	leaf, ok := leafCoders[v.Kind]
	if !ok {
		return fmt.Sprintf("values of kind %s (%s) are not generated yet", v.Kind, v.Type)
	}
	// The Go SDK writes its custom coders length-prefixed already: the runner's
	// length_prefix around one adds no bytes.
	if urn == wire.URNLengthPrefix && leaf.urn == urnGoCustom && len(c.GetComponentCoderIds()) == 1 {
		urn = comps.GetCoders()[c.GetComponentCoderIds()[0]].GetSpec().GetUrn()
	}
	if urn != leaf.urn {
		return fmt.Sprintf("a %s value travels as %s", v.Kind, urn)
	}
	return ""
}

// goType is the Go type of a part: its named type or its literal; grouped values (an
// iterable) are rt.Values of one.
func goType(v capture.Value) jen.Code {
	if v.Kind == capture.ValueIterable {
		return jen.Qual(rtPath, "Values").Types(goType(v.Components[0]))
	}
	if v.Pkg != "" {
		return jen.Qual(v.Pkg, v.Type)
	}
	if v.Type == "[]uint8" {
		return jen.Index().Byte()
	}
	return jen.Id(v.Type)
}

// rtFunc is rt's Append or Decode function for a leaf, instantiated where it is generic.
func rtFunc(op string, v capture.Value) *jen.Statement {
	f := jen.Qual(rtPath, op+leafCoders[v.Kind].rt)
	if v.Kind == capture.ValueVarIntZ {
		f = f.Index(goType(v))
	}
	return f
}

// nameOr is ec's name, or alt when there is no typed coder.
func (ec *EdgeCoder) nameOr(alt string) string {
	if ec == nil {
		return alt
	}
	return ec.Name
}

// emit writes sluiceAppend<Name> and sluiceDecode<Name> for ec into f.
func (ec *EdgeCoder) emit(f *jen.File, pcoll string) {
	var params, results []jen.Code
	var appends, decodes []jen.Code
	for i, p := range ec.Parts {
		v := fmt.Sprintf("v%d", i)
		params = append(params, jen.Id(v).Add(goType(p)))
		results = append(results, jen.Id(v).Add(goType(p)))
		enc, dec := rtFunc("Append", p), rtFunc("Decode", p)
		if p.Kind == capture.ValueIterable {
			leaf := p.Components[0]
			enc = jen.Qual(rtPath, "AppendValues").Call(jen.Id("dst"), jen.Id(v), rtFunc("Append", leaf))
			appends = append(appends, jen.Id("dst").Op("=").Add(enc))
			dec = jen.Qual(rtPath, "DecodeValues").Call(jen.Id("b").Index(jen.Id("n").Op(":")), rtFunc("Decode", leaf))
		} else {
			appends = append(appends, jen.Id("dst").Op("=").Add(enc).Call(jen.Id("dst"), jen.Id(v)))
			dec = dec.Call(jen.Id("b").Index(jen.Id("n").Op(":")))
		}
		decodes = append(decodes,
			jen.If(jen.List(jen.Id(v), jen.Id("m"), jen.Err()).Op("=").Add(dec), jen.Err().Op("!=").Nil()).Block(jen.Return()),
			jen.Id("n").Op("+=").Id("m"),
		)
	}
	f.Commentf("sluiceAppend%s appends an element of PCollection %q as its wire", ec.Name, pcoll)
	f.Comment("coder writes it (the windowed-value header aside).")
	f.Func().Id("sluiceAppend" + ec.Name).Params(append([]jen.Code{jen.Id("dst").Index().Byte()}, params...)...).Index().Byte().Block(
		append(appends, jen.Return(jen.Id("dst")))...)
	f.Commentf("sluiceDecode%s decodes an element of PCollection %q and says how", ec.Name, pcoll)
	f.Comment("many bytes it took.")
	f.Func().Id("sluiceDecode" + ec.Name).Params(jen.Id("b").Index().Byte()).Params(
		append(results, jen.Id("n").Int(), jen.Err().Error())...).Block(
		append([]jen.Code{jen.Var().Id("m").Int()}, append(decodes, jen.Return())...)...)
}
