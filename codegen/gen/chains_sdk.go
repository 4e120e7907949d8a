package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// SDK-coded ports: a stage input or output whose edge has no typed coder (its values are
// schema rows, custom-coded types, a splittable DoFn's element and restriction, ...) but
// whose Go values the chain knows is coded with the Go SDK's own coder, through
// rt.SDKCodec: the factory asks the harness for the port's coder (env.InputCoder,
// env.OutputCoder), each bundle makes its own codec (it is not safe for concurrent use),
// and the chain converts between the exec.FullValue the SDK's decoders produce and its
// typed values with checked assertions. Typed coders stay wherever they exist.

// execPath is the SDK's exec package: its FullValue is what SDKCodec decodes into.
const execPath = "github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"

// Value kinds only gen makes, for the PCollections the planner adds when it expands a
// splittable DoFn (see chains_sdf.go): KV<element, KV<restriction, watermark estimator
// state>> (Components: element, restriction, state) and KV<that, size> (Components:
// the paired value, the size).
const (
	valuePaired = "sdf-paired"
	valueSized  = "sdf-sized"
)

// fvShape is where a value's parts are in the exec.FullValue the SDK's decoders make of
// it: a part (leaf), or a KV whose key and value are Elm and Elm2 (a pointer to a nested
// FullValue below the top; a nested single value is elided to the value itself, as
// exec's KV decoder has it).
type fvShape struct {
	part     int // a leaf's index in the pcoll's parts
	key, val *fvShape
}

// partsOf flattens a PCollection's value into the parts a chain hands on, and says where
// each is in the SDK's FullValue.
func partsOf(v capture.Value) ([]capture.Value, *fvShape) {
	var parts []capture.Value
	var walk func(v capture.Value, top bool) *fvShape
	kv := func(k, v *fvShape) *fvShape { return &fvShape{key: k, val: v} }
	leaf := func(v capture.Value) *fvShape {
		parts = append(parts, v)
		return &fvShape{part: len(parts) - 1}
	}
	walk = func(v capture.Value, top bool) *fvShape {
		switch {
		case v.Kind == capture.ValueKV && len(v.Components) == 2 && top:
			return kv(leaf(v.Components[0]), leaf(v.Components[1]))
		case v.Kind == valuePaired && len(v.Components) == 3:
			return kv(walk(v.Components[0], true), kv(leaf(v.Components[1]), leaf(v.Components[2])))
		case v.Kind == valueSized && len(v.Components) == 2:
			return kv(walk(v.Components[0], true), leaf(v.Components[1]))
		case v.Kind == capture.ValueCoGBK && len(v.Components) > 2 && top:
			// A CoGroupByKey's output: the key, then each input's values. It is never
			// coded (see chains_cogbk.go), so it has no FullValue shape.
			leaf(v.Components[0])
			for _, c := range v.Components[1:] {
				leaf(capture.Value{Kind: capture.ValueIterable, Components: []capture.Value{c}})
			}
			return nil
		}
		return leaf(v)
	}
	shape := walk(v, true)
	return parts, shape
}

// sdkCodable says why a PCollection without a typed coder cannot be coded with the SDK's
// coder by the chain ("" if it can). Grouped values come as the slice the SDK's iterable
// decoder makes (a GroupByKey's output read whole, as the SDK's coder reads it), but
// only on the input: no step makes them.
func sdkCodable(pc *pcoll) string {
	for _, p := range pc.parts {
		if p.Kind == capture.ValueIterable && pc.idx != 0 {
			return "grouped values on a port without a typed coder: " + notCovered
		}
	}
	return ""
}

// sdkNote is what the header says of an SDK-coded port.
func sdkNote(what string, pc *pcoll) string {
	kinds := map[string]bool{}
	var list string
	for _, p := range pc.parts {
		k := p.Kind
		switch {
		case k == capture.ValueOpaque && p.Pkg != "":
			k = "row/custom"
		case k == capture.ValueOpaque:
			k = "opaque"
		}
		if !kinds[k] {
			kinds[k] = true
			if list != "" {
				list += ", "
			}
			list += k
		}
	}
	return fmt.Sprintf("%s %s coded by the SDK's coder (%s values)", what, pc.name, list)
}

func inCoderField() string       { return "inCoder" }
func outCoderField(i int) string { return fmt.Sprintf("outCoder%d", i) }
func inCodecField() string       { return "inCodec" }
func outCodecField(i int) string { return fmt.Sprintf("outCodec%d", i) }

// sdkStageFields are the stage's fields holding the SDK-coded ports' coders and the SDK
// coders of values coded inside the stage (precombine keys, CoGroupByKey values).
func (em *emitter) sdkStageFields() []jen.Code {
	var fields []jen.Code
	if em.ch.inCode == nil {
		fields = append(fields, jen.Id(inCoderField()).Op("*").Qual(coderPath, "Coder").Comment("the input's coder: it has no typed one"))
	}
	for i, ec := range em.ch.outs {
		if ec == nil {
			fields = append(fields, jen.Id(outCoderField(i)).Op("*").Qual(coderPath, "Coder").Comment(fmt.Sprintf("output %d's coder: it has no typed one", i)))
		}
	}
	fields = append(fields, em.keyStageFields()...)
	return append(fields, em.cogbkStageFields()...)
}

// sdkFactory are the factory's statements asking the harness for those coders.
func (em *emitter) sdkFactory() []jen.Code {
	var stmts []jen.Code
	get := func(field string, call jen.Code, what string) {
		stmts = append(stmts, jen.If(
			jen.List(jen.Id("s").Dot(field), jen.Err()).Op("=").Add(call),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Nil(), em.errorf(what+"'s coder: %w", jen.Err()))))
	}
	if em.ch.inCode == nil {
		get(inCoderField(), jen.Id("env").Dot("InputCoder").Call(), "the input")
	}
	for i, ec := range em.ch.outs {
		if ec == nil {
			get(outCoderField(i), jen.Id("env").Dot("OutputCoder").Call(jen.Lit(i)), fmt.Sprintf("output %d", i))
		}
	}
	stmts = append(stmts, em.keyFactory()...)
	return append(stmts, em.cogbkFactory()...)
}

func (em *emitter) usesSDKCodec() bool {
	if em.ch.inCode == nil || len(em.cogbkSDKSteps()) > 0 || len(em.encodedKeySteps()) > 0 {
		return true
	}
	for _, ec := range em.ch.outs {
		if ec == nil {
			return true
		}
	}
	return false
}

// sdkBundleFields are the bundle's codecs, one per SDK-coded port, and encoders of the
// values coded inside the stage.
func (em *emitter) sdkBundleFields() []jen.Code {
	var fields []jen.Code
	if em.ch.inCode == nil {
		fields = append(fields, jen.Id(inCodecField()).Op("*").Qual(rtPath, "SDKCodec"))
	}
	for i, ec := range em.ch.outs {
		if ec == nil {
			fields = append(fields, jen.Id(outCodecField(i)).Op("*").Qual(rtPath, "SDKCodec"))
		}
	}
	fields = append(fields, em.keyBundleFields()...)
	return append(fields, em.cogbkBundleFields()...)
}

// sdkStartBundle makes the bundle's codecs.
func (em *emitter) sdkStartBundle() []jen.Code {
	var stmts []jen.Code
	if em.ch.inCode == nil {
		stmts = append(stmts, jen.Id("b").Dot(inCodecField()).Op("=").Qual(rtPath, "NewSDKCodec").Call(jen.Id("s").Dot(inCoderField())))
	}
	for i, ec := range em.ch.outs {
		if ec == nil {
			stmts = append(stmts, jen.Id("b").Dot(outCodecField(i)).Op("=").Qual(rtPath, "NewSDKCodec").Call(jen.Id("s").Dot(outCoderField(i))))
		}
	}
	stmts = append(stmts, em.keyStartBundle()...)
	return append(stmts, em.cogbkStartBundle()...)
}

// emitSDKDecode writes decodeInput: the input's value decoded with the SDK's coder and
// taken apart into the chain's typed parts.
func (em *emitter) emitSDKDecode(f *jen.File) {
	in := em.ch.input
	results := partParams("v", in.parts)
	body := []jen.Code{
		jen.List(jen.Id("fv"), jen.Id("n"), jen.Err()).Op(":=").Id("b").Dot(inCodecField()).Dot("Decode").Call(jen.Id("data")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return()),
	}
	tmp := 0
	var take func(sh *fvShape, src *jen.Statement, path string, top bool)
	take = func(sh *fvShape, src *jen.Statement, path string, top bool) {
		if sh.key == nil {
			p := in.parts[sh.part]
			v := jen.Id(fmt.Sprintf("v%d", sh.part))
			if top {
				src, path = src.Clone().Dot("Elm"), path+".Elm"
			}
			switch {
			case spellable(p) != "" && p.Kind == capture.ValueIterable:
				// Values of a type the package cannot name are held as any.
				body = append(body, jen.If(jen.List(v.Clone(), jen.Err()).Op("=").Qual(rtPath, "Boxes").Call(src), jen.Err().Op("!=").Nil()).Block(jen.Return()))
				return
			case spellable(p) != "":
				body = append(body, v.Clone().Op("=").Add(src))
				return
			}
			typ, dst := goType(p), v.Clone()
			if p.Kind == capture.ValueIterable {
				// The SDK decodes a group whole, into a slice.
				typ, dst = jen.Index().Add(goType(p.Components[0])), jen.Id(fmt.Sprintf("vs%d", sh.part))
				body = append(body, jen.Var().Add(dst.Clone()).Add(typ))
			}
			body = append(body,
				jen.List(dst, jen.Id("ok")).Op("=").Add(src).Assert(typ),
				jen.If(jen.Op("!").Id("ok")).Block(jen.Err().Op("=").Qual("fmt", "Errorf").Call(
					jen.Lit("the SDK's coder gave a %T for "+path+", want "+valueTypeString(p)), src.Clone()),
					jen.Return()))
			if p.Kind == capture.ValueIterable {
				body = append(body, v.Clone().Op("=").Qual(rtPath, "ValuesOf").Call(dst.Clone()))
			}
			return
		}
		x := src
		if !top {
			x = jen.Id(fmt.Sprintf("x%d", tmp))
			tmp++
			body = append(body,
				jen.List(x.Clone(), jen.Id("ok")).Op(":=").Add(src).Assert(jen.Op("*").Qual(execPath, "FullValue")),
				jen.If(jen.Op("!").Id("ok")).Block(jen.Err().Op("=").Qual("fmt", "Errorf").Call(
					jen.Lit("the SDK's coder gave a %T for "+path+", want a KV"), src.Clone()),
					jen.Return()))
		}
		take(sh.key, x.Clone().Dot("Elm"), path+".Elm", false)
		take(sh.val, x.Clone().Dot("Elm2"), path+".Elm2", false)
	}
	body = append(body, jen.Var().Id("ok").Bool())
	take(in.shape, jen.Id("fv"), "value", true)
	body = append(body, jen.Return())
	f.Commentf("decodeInput decodes an element of %s with the SDK's coder (the edge has no", in.name)
	f.Comment("typed coder) and takes the SDK's value apart, checking each part's type.")
	f.Add(em.method("decodeInput", jen.Id("data").Index().Byte()).Params(append(results, jen.Id("n").Int(), jen.Err().Error())...).Block(body...))
	f.Line()
}

// emitSDKAppend writes appendOut<i>: the parts of an element of output i put together
// as the SDK's encoders expect them, and encoded with the SDK's coder.
func (em *emitter) emitSDKAppend(f *jen.File, i int, pc *pcoll) {
	var build func(sh *fvShape) jen.Code
	build = func(sh *fvShape) jen.Code {
		if sh.key == nil {
			return jen.Id(fmt.Sprintf("v%d", sh.part))
		}
		return jen.Op("&").Qual(execPath, "FullValue").Values(jen.Dict{jen.Id("Elm"): build(sh.key), jen.Id("Elm2"): build(sh.val)})
	}
	var fv jen.Code
	if sh := pc.shape; sh.key == nil {
		fv = jen.Qual(execPath, "FullValue").Values(jen.Dict{jen.Id("Elm"): build(sh)})
	} else {
		fv = jen.Qual(execPath, "FullValue").Values(jen.Dict{jen.Id("Elm"): build(sh.key), jen.Id("Elm2"): build(sh.val)})
	}
	f.Commentf("appendOut%d appends an element of %s, encoded with the SDK's coder (the edge", i, pc.name)
	f.Comment("has no typed coder).")
	f.Add(em.method(fmt.Sprintf("appendOut%d", i), append([]jen.Code{jen.Id("dst").Index().Byte()}, partParams("v", pc.parts)...)...).Params(jen.Index().Byte(), jen.Error()).Block(
		jen.Id("fv").Op(":=").Add(fv),
		jen.Return(jen.Id("b").Dot(outCodecField(i)).Dot("Append").Call(jen.Id("dst"), jen.Op("&").Id("fv"))),
	))
	f.Line()
}

// coderPath is the SDK's coder package: StageEnv gives the SDK-coded ports' coders in it.
const coderPath = "github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
