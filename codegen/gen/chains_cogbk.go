package gen

import (
	"fmt"
	"sort"

	v1pb "github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx/v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/util/protox"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/dave/jennifer/jen"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/runner/wire"
)

// CoGroupByKey over several inputs, as the Go SDK marshals it (graphx/cogbk.go) and runs
// it (exec/cogbk.go): each input KV<K, V_i> goes through an inject ParDo (a Go SDK URN,
// no user function) that makes KV<K, union>, the union being KV<i, V_i's encoding>; the
// injected inputs are flattened and grouped (runner/plan never puts a Flatten in a
// stage: its consumers read each of its inputs, so the group's stage reads the injects'
// outputs); an expand ParDo at the head of the consuming stage hands each input's values
// on. A chain runs the two ParDos as the SDK's nodes do:
//
//   - inject encodes the value with the element encoder of its input's value coder (the
//     typed rt coder where it writes the same bytes, else the SDK's own coder through
//     rt.SDKCodec) and hands on KV<K, rt.Union{N: i, Raw: encoding}>;
//   - expand decodes a group's union values (KV<K, iterable<union>> on the wire) with each
//     input's value decoder into one slice per input, in the group's order, leaving out
//     indexes beyond the inputs as the SDK's filter does, and hands KV<K, []V_1, ...,
//     []V_n> to the consuming DoFn, which takes each as it takes a GroupByKey's values (an
//     iterator func(*V) bool, once through, or func() func(*V) bool, re-iterable).
//
// The SDK counts no elements of the expand's output (the group's count is its stage
// input's): neither does the chain. It decodes a group's values when the group arrives,
// where the SDK decodes them as the DoFn iterates: only a value that cannot be decoded
// (bytes no SDK wrote) tells the two apart. Not covered: values that are themselves
// grouped or KVs, a CoGroupByKey's grouped values leaving a stage (its output only ever
// feeds ParDos), keys without a typed coder (grouped values on an SDK-coded port).

// The Go SDK's CoGroupByKey URNs (DoFn URNs of ParDos) and the Flatten the planner sees
// through.
const (
	urnInject  = "beam:go:transform:inject:v1"
	urnExpand  = "beam:go:transform:expand:v1"
	urnFlatten = "beam:transform:flatten:v1"
	// urnCoGBKList is the Go SDK's marker coder listing a CoGBK's value coders.
	urnCoGBKList = "beam:go:coder:cogbklist:v1"
)

// valueUnion is the value kind of a raw union value, rt.Union (only gen makes it).
const valueUnion = "cogbk-union"

// Step kinds of a CoGroupByKey's expansion.
const (
	stepInject stepKind = iota + 200
	stepExpand
)

func unionValue() capture.Value { return capture.Value{Kind: valueUnion, Pkg: rtPath, Type: "Union"} }

func isUnionKV(v *capture.Value) bool {
	return v != nil && v.Kind == capture.ValueKV && len(v.Components) == 2 && v.Components[1].Kind == valueUnion
}

// cogbkStep is what an inject or expand step codes.
type cogbkStep struct {
	n int // inject: its input's index in the union
	// vals are the values coded (an inject's input's; an expand's inputs', in order); sdk
	// says of each whether the SDK's coder codes it (rt has no typed coder that writes
	// what the pipeline's coder writes).
	vals []capture.Value
	sdk  []bool
}

// goDoFnURN is the URN of a ParDo's DoFn: the Go SDK's own for inject and expand.
func goDoFnURN(t *pipepb.PTransform) string {
	var pd pipepb.ParDoPayload
	if proto.Unmarshal(t.GetSpec().GetPayload(), &pd) != nil {
		return ""
	}
	return pd.GetDoFn().GetUrn()
}

// cogbkValues adds the values of the PCollections the SDK's marshalling makes for a
// CoGroupByKey: the injects' outputs KV<key, union>, the Flatten of them, and the group
// KV<key, iterable<union>>. The expand's output is the capture's CoGBK.
func cogbkValues(comps *pipepb.Components, m map[string]*capture.Value) {
	ts := comps.GetTransforms()
	ids := make([]string, 0, len(ts))
	for id := range ts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t := ts[id]
		in, err := mainInput(t)
		if t.GetSpec().GetUrn() != urnParDo || err != nil || len(t.GetOutputs()) != 1 || goDoFnURN(t) != urnInject {
			continue
		}
		if v := m[in]; v != nil && v.Kind == capture.ValueKV && len(v.Components) == 2 {
			for _, out := range t.GetOutputs() {
				m[out] = &capture.Value{Kind: capture.ValueKV, Components: []capture.Value{v.Components[0], unionValue()}}
			}
		}
	}
	// A Flatten of injected inputs with one key type (flattens of those too, hence the
	// rounds), then the group.
	for changed := true; changed; {
		changed = false
		for _, id := range ids {
			t := ts[id]
			out, err := singleOutput(t)
			if t.GetSpec().GetUrn() != urnFlatten || err != nil || m[out] != nil {
				continue
			}
			if v := flattenedUnion(t, m); v != nil {
				m[out], changed = v, true
			}
		}
	}
	for _, id := range ids {
		t := ts[id]
		in, err := mainInput(t)
		out, err2 := singleOutput(t)
		if t.GetSpec().GetUrn() != urnGroupByKey || err != nil || err2 != nil || !isUnionKV(m[in]) || m[out] != nil {
			continue
		}
		m[out] = &capture.Value{Kind: capture.ValueKV, Components: []capture.Value{m[in].Components[0],
			{Kind: capture.ValueIterable, Components: []capture.Value{unionValue()}}}}
	}
}

// flattenedUnion is the value of a Flatten whose inputs are all union KVs with one key
// type, or nil.
func flattenedUnion(t *pipepb.PTransform, m map[string]*capture.Value) *capture.Value {
	var v *capture.Value
	for _, in := range t.GetInputs() {
		w := m[in]
		if !isUnionKV(w) || (v != nil && valueTypeString(v.Components[0]) != valueTypeString(w.Components[0])) {
			return nil
		}
		v = w
	}
	return v
}

func singleOutput(t *pipepb.PTransform) (string, error) {
	if len(t.GetOutputs()) != 1 {
		return "", fmt.Errorf("%d outputs, want 1", len(t.GetOutputs()))
	}
	var out string
	for _, pc := range t.GetOutputs() {
		out = pc
	}
	return out, nil
}

// matchesUnion says why wire coder c cannot carry raw union values ("" if it can): it
// must be the SDK's union coder, KV<varintz int (a custom coder, maybe length-prefixed),
// bytes>.
func matchesUnion(comps *pipepb.Components, id string) string {
	c := comps.GetCoders()[id]
	ids := c.GetComponentCoderIds()
	if c.GetSpec().GetUrn() == wire.URNKV && len(ids) == 2 {
		idx := comps.GetCoders()[ids[0]]
		if idx.GetSpec().GetUrn() == wire.URNLengthPrefix && len(idx.GetComponentCoderIds()) == 1 {
			idx = comps.GetCoders()[idx.GetComponentCoderIds()[0]]
		}
		if idx.GetSpec().GetUrn() == urnGoCustom && comps.GetCoders()[ids[1]].GetSpec().GetUrn() == wire.URNBytes {
			return ""
		}
	}
	return "a CoGroupByKey's union values travel as " + coderString(comps, id, 0)
}

// valueCoding says whether the SDK's coder codes value v inside a CoGroupByKey (its
// pipeline coder is coderID), or why v is not covered.
func (env *chainEnv) valueCoding(v capture.Value, coderID string) (sdk bool, why string) {
	switch v.Kind {
	case capture.ValueIterable, capture.ValueKV, capture.ValueCoGBK, valueUnion, valuePaired, valueSized:
		return false, fmt.Sprintf("%s values in a CoGroupByKey: %s", v.Kind, notCovered)
	}
	if _, ok := leafCoders[v.Kind]; ok && coderID != "" && matches(env.comps, coderID, v) == "" {
		return false, ""
	}
	return true, ""
}

// coderComponents are the component coder ids of pipeline coder id.
func (env *chainEnv) coderComponents(id string) []string {
	return env.comps.GetCoders()[id].GetComponentCoderIds()
}

// inject plans a CoGroupByKey's inject step, or says why it is not covered.
func (env *chainEnv) inject(st *step, t *pipepb.PTransform) string {
	st.kind = stepInject
	var pd pipepb.ParDoPayload
	var tp v1pb.TransformPayload
	if err := proto.Unmarshal(t.GetSpec().GetPayload(), &pd); err != nil {
		return fmt.Sprintf("transform %s: bad ParDoPayload: %v", st.name, err)
	}
	if err := protox.DecodeBase64(string(pd.GetDoFn().GetPayload()), &tp); err != nil || tp.GetInject() == nil {
		return fmt.Sprintf("transform %s: no inject payload (%v)", st.name, err)
	}
	if len(st.in.parts) != 2 {
		return fmt.Sprintf("transform %s: its input is not a KV", st.name)
	}
	// The SDK's Inject encodes with its input's value coder, one length prefix stripped.
	var valCoder string
	pc := env.comps.GetPcollections()[st.in.id]
	if kv := env.coderComponents(pc.GetCoderId()); len(kv) == 2 {
		valCoder = kv[1]
		if c := env.comps.GetCoders()[valCoder]; c.GetSpec().GetUrn() == wire.URNLengthPrefix && len(c.GetComponentCoderIds()) == 1 {
			valCoder = c.GetComponentCoderIds()[0]
		}
	}
	v := st.in.parts[1]
	sdk, why := env.valueCoding(v, valCoder)
	if why != "" {
		return fmt.Sprintf("transform %s: %s", st.name, why)
	}
	st.cg = &cogbkStep{n: int(tp.GetInject().GetN()), vals: []capture.Value{v}, sdk: []bool{sdk}}
	return ""
}

// expand plans a CoGroupByKey's expand step, or says why it is not covered.
func (env *chainEnv) expand(st *step, t *pipepb.PTransform) string {
	st.kind = stepExpand
	in := st.in.parts
	if len(in) != 2 || in[1].Kind != capture.ValueIterable || in[1].Components[0].Kind != valueUnion {
		return fmt.Sprintf("transform %s: its input is not a CoGroupByKey's grouped union values", st.name)
	}
	out, err := singleOutput(t)
	if err != nil {
		return fmt.Sprintf("transform %s: %v", st.name, err)
	}
	v := env.vals[out]
	if v == nil || v.Kind != capture.ValueCoGBK || len(v.Components) < 3 {
		return fmt.Sprintf("transform %s: the capture has no CoGroupByKey of several inputs for its output", st.name)
	}
	// The SDK's Expand decodes with the value coders its output's CoGBK coder lists:
	// KV<key, iterable<length_prefix<cogbklist<V_1, ..., V_n>>>> in the pipeline.
	var list []string
	if kv := env.coderComponents(env.comps.GetPcollections()[out].GetCoderId()); len(kv) == 2 {
		if it := env.coderComponents(kv[1]); len(it) == 1 {
			if lp := env.coderComponents(it[0]); len(lp) == 1 && env.comps.GetCoders()[lp[0]].GetSpec().GetUrn() == urnCoGBKList {
				list = env.coderComponents(lp[0])
			}
		}
	}
	vals := v.Components[1:]
	if len(list) != len(vals) {
		return fmt.Sprintf("transform %s: its output's coder does not list %d inputs' value coders", st.name, len(vals))
	}
	st.cg = &cogbkStep{vals: vals}
	for i, val := range vals {
		sdk, why := env.valueCoding(val, list[i])
		if why != "" {
			return fmt.Sprintf("transform %s: %s", st.name, why)
		}
		st.cg.sdk = append(st.cg.sdk, sdk)
	}
	return ""
}

// checkCoGBK verifies that an inject or expand step's output is what it makes.
func (st *step) checkCoGBK() string {
	if len(st.outs) != 1 {
		return fmt.Sprintf("%d outputs, want 1", len(st.outs))
	}
	key, out := valueTypeString(st.in.parts[0]), st.outs[0].parts
	if st.kind == stepInject {
		if len(out) != 2 || valueTypeString(out[0]) != key || out[1].Kind != valueUnion {
			return "its output is not KV<key, union>"
		}
		return ""
	}
	if len(out) != 1+len(st.cg.vals) || valueTypeString(out[0]) != key {
		return "its output is not its input's key with each input's values"
	}
	return ""
}

func cgCodersField(st *step) string { return fmt.Sprintf("cgCoders%d", st.idx) }
func cgCodecsField(st *step) string { return fmt.Sprintf("cgCodecs%d", st.idx) }
func rawField(st *step) string      { return fmt.Sprintf("raw%d", st.idx) }

// sdkCoded says whether the SDK's coder codes any of a CoGroupByKey step's values.
func (st *step) sdkCoded() bool {
	if st.cg == nil {
		return false
	}
	for _, sdk := range st.cg.sdk {
		if sdk {
			return true
		}
	}
	return false
}

func (em *emitter) cogbkSDKSteps() []*step {
	var sts []*step
	for _, st := range em.ch.steps {
		if st.sdkCoded() {
			sts = append(sts, st)
		}
	}
	return sts
}

// cogbkStageFields are the stage's fields holding the SDK coders of CoGroupByKey values.
func (em *emitter) cogbkStageFields() []jen.Code {
	var fields []jen.Code
	for _, st := range em.cogbkSDKSteps() {
		fields = append(fields, jen.Id(cgCodersField(st)).Index().Op("*").Qual(coderPath, "Coder").Comment(st.name+"'s value coders, as the SDK's node has them"))
	}
	return fields
}

// cogbkFactory asks the harness for them.
func (em *emitter) cogbkFactory() []jen.Code {
	var stmts []jen.Code
	for _, st := range em.cogbkSDKSteps() {
		stmts = append(stmts, jen.If(
			jen.List(jen.Id("s").Dot(cgCodersField(st)), jen.Err()).Op("=").Qual(rtPath, "CoGBKValueCoders").Call(jen.Id("env"), jen.Lit(st.name), jen.Lit(st.kind == stepExpand)),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Nil(), em.errorf("%w", jen.Err()))))
	}
	return stmts
}

// cogbkBundleFields are the bundle's codecs of SDK-coded CoGroupByKey values and each
// inject's buffer for the encoding it hands on (its consumers are the stage's outputs,
// which copy it).
func (em *emitter) cogbkBundleFields() []jen.Code {
	var fields []jen.Code
	for _, st := range em.ch.steps {
		if st.kind == stepInject {
			fields = append(fields, jen.Id(rawField(st)).Index().Byte())
		}
		if st.sdkCoded() {
			fields = append(fields, jen.Id(cgCodecsField(st)).Index().Op("*").Qual(rtPath, "SDKCodec"))
		}
	}
	return fields
}

func (em *emitter) cogbkStartBundle() []jen.Code {
	var stmts []jen.Code
	for _, st := range em.cogbkSDKSteps() {
		stmts = append(stmts, jen.Id("b").Dot(cgCodecsField(st)).Op("=").Qual(rtPath, "NewSDKCodecs").Call(jen.Id("s").Dot(cgCodersField(st))))
	}
	return stmts
}

// emitInject writes an inject step.
func (em *emitter) emitInject(f *jen.File, st *step) {
	raw := func() *jen.Statement { return jen.Id("b").Dot(rawField(st)) }
	var body []jen.Code
	if st.cg.sdk[0] {
		body = append(body,
			jen.List(jen.Id("raw"), jen.Err()).Op(":=").Id("b").Dot(cgCodecsField(st)).Index(jen.Lit(0)).Dot("Append").Call(
				raw().Index(jen.Op(":").Lit(0)), jen.Op("&").Qual(execPath, "FullValue").Values(jen.Dict{jen.Id("Elm"): jen.Id("v1")})),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Id("b").Dot("fail").Call(em.errorf(st.name+": %w", jen.Err())), jen.Return()),
			raw().Op("=").Id("raw"))
	} else {
		body = append(body, raw().Op("=").Add(rtFunc("Append", st.cg.vals[0])).Call(raw().Index(jen.Op(":").Lit(0)), jen.Id("v1")))
	}
	body = append(body, jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx)).Call(jen.Id("v0"),
		jen.Qual(rtPath, "Union").Values(jen.Dict{jen.Id("N"): jen.Lit(st.cg.n), jen.Id("Raw"): raw()})))
	f.Commentf("step%d runs %s: a CoGroupByKey's input %d, its value", st.idx, st.name, st.cg.n)
	f.Comment("encoded as the SDK's Inject encodes it, tagged with the input's index.")
	f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(body...))
}

// expanded are an expand step's outputs, x0, x1, ...: each input's values, as rt.Values
// where the package can name them.
func expanded(st *step) []jen.Code {
	xs := ids("x", len(st.cg.vals))
	for i, part := range st.outs[0].parts[1:] {
		if spellable(part) == "" {
			xs[i] = jen.Qual(rtPath, "ValuesOf").Call(xs[i])
		}
	}
	return xs
}

// emitExpand writes an expand step.
func (em *emitter) emitExpand(f *jen.File, st *step) {
	var body, cases []jen.Code
	for i, v := range st.cg.vals {
		body = append(body, jen.Var().Id(fmt.Sprintf("x%d", i)).Index().Add(goType(v)))
		fail := jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Id("b").Dot("fail").Call(em.errorf(fmt.Sprintf("%s: a value of input %d: %%w", st.name, i), jen.Err())), jen.Return())
		var stmts []jen.Code
		if st.cg.sdk[i] {
			stmts = append(stmts,
				jen.List(jen.Id("fv"), jen.Id("_"), jen.Err()).Op(":=").Id("b").Dot(cgCodecsField(st)).Index(jen.Lit(i)).Dot("Decode").Call(jen.Id("u").Dot("Raw")),
				fail,
				jen.List(jen.Id("x"), jen.Id("ok")).Op(":=").Id("fv").Dot("Elm").Assert(goType(v)),
				jen.If(jen.Op("!").Id("ok")).Block(
					jen.Id("b").Dot("fail").Call(em.errorf(fmt.Sprintf("%s: the SDK's coder gave a %%T for input %d, want %s", st.name, i, valueTypeString(v)), jen.Id("fv").Dot("Elm"))),
					jen.Return()))
		} else {
			stmts = append(stmts, jen.List(jen.Id("x"), jen.Id("_"), jen.Err()).Op(":=").Add(rtFunc("Decode", v)).Call(jen.Id("u").Dot("Raw")), fail)
			if v.Kind == capture.ValueBytes {
				stmts = append(stmts,
					jen.Comment("Decoded bytes alias the harness's buffer; user code may keep them, as the SDK allows."),
					jen.Id("x").Op("=").Qual("bytes", "Clone").Call(jen.Id("x")))
			}
		}
		stmts = append(stmts, jen.Id(fmt.Sprintf("x%d", i)).Op("=").Append(jen.Id(fmt.Sprintf("x%d", i)), jen.Id("x")))
		cases = append(cases, jen.Case(jen.Lit(i)).Block(stmts...))
	}
	body = append(body,
		jen.For(jen.List(jen.Id("_"), jen.Id("u")).Op(":=").Range().Add(groupedRange("v1", st.in.parts[1]))).Block(jen.Switch(jen.Id("u").Dot("N")).Block(cases...)),
		jen.Id("b").Dot(fmt.Sprintf("pcoll%d", st.outs[0].idx)).Call(append([]jen.Code{jen.Id("v0")}, expanded(st)...)...))
	f.Commentf("step%d runs %s: a group's union values decoded into each", st.idx, st.name)
	f.Comment("CoGroupByKey input's values, in the group's order, as the SDK's Expand hands them on")
	f.Comment("(other indexes are left out, as it leaves them out).")
	f.Add(em.method(fmt.Sprintf("step%d", st.idx), partParams("v", st.in.parts)...).Block(body...))
}
