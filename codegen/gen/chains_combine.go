package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// Lifted combines: the planner splits a CombinePerKey into precombine | GroupByKey |
// merge | extract, and a chain runs each part as the Go SDK's exec nodes do
// (LiftedCombine, MergeAccumulators, ExtractOutput):
//
//   - precombine: per key, CreateAccumulator (the zero accumulator without one), then
//     AddInput; a merge-only CombineFn (no AddInput) takes a key's first value as its
//     accumulator and merges the next ones in. Keys are held in first-seen order and
//     flushed past precombineMax keys and at Finish.
//   - merge: per key, CreateAccumulator (called as the SDK calls it, though the first
//     accumulator replaces it), then MergeAccumulators over the grouped accumulators.
//   - extract: ExtractOutput, or the accumulator itself without one.
//
// A combine the planner does not lift (a trigger other than the default) is a ParDo of
// its composite's expansion after the GroupByKey, whose payload holds the CombineFn: it
// runs as exec.Combine does, a key's values added to a new accumulator (merged into the
// first, for a merge-only CombineFn) and the result extracted.
//
// Each method may take a context (the step's, naming its transform) and return an error
// (it fails the bundle). Compact is never called: the SDK's exec nodes do not call it.
// A struct CombineFn is decoded per stage instance from its transform's payload
// (rt.DecodeCombineFn: configuration restored as the SDK restores it), its Setup run in
// the factory and its Teardown in Stage.Teardown, as for struct DoFns. Its methods are
// called directly when the generated package can name its type, else through typed
// method values (rt.Method). When it cannot name the accumulator, AddInput's input or
// ExtractOutput's output (an unexported type of another package), the chain holds those
// values as any and calls the methods through the SDK's own callers of them (rt.Boxed:
// what the SDK harness calls, the register.Combiner* wrappers when the program has them);
// such values may only travel between these steps and the stage's SDK-coded ports.

// combineFn is what a chain knows of a combine step's CombineFn: its methods, each
// (context.Context?, values...) (value, error?), nil when absent.
type combineFn struct {
	kind                        string // "func" (a merge function) or "struct"
	create, add, merge, extract *sdfMethod
	accum                       *goTyp        // A, MergeAccumulators' result
	accumValue                  capture.Value // A's value, as the accumulator coder codes it
	// boxed says the generated package cannot name a type the methods take or return:
	// they are called with any values, through rt.Boxed.
	boxed bool
}

// calls are the methods the SDK calls in a step of kind k.
func (cf *combineFn) calls(k stepKind) []*sdfMethod {
	var ms []*sdfMethod
	add := func(m *sdfMethod) {
		if m != nil {
			ms = append(ms, m)
		}
	}
	switch k {
	case stepPrecombine:
		add(cf.create)
		if cf.add != nil {
			add(cf.add)
		} else {
			add(cf.merge)
		}
	case stepMerge:
		add(cf.create)
		add(cf.merge)
	case stepExtract:
		add(cf.extract)
	case stepCombine:
		add(cf.create)
		if cf.add != nil {
			add(cf.add)
		} else {
			add(cf.merge)
		}
		add(cf.extract)
	}
	return ms
}

// needsZero says whether a boxed step of kind k starts from the zero accumulator, which
// only the decoded CombineFn can make.
func (cf *combineFn) needsZero(k stepKind) bool {
	return cf.boxed && cf.create == nil && ((k == stepPrecombine && cf.add != nil) || k == stepMerge || k == stepCombine)
}

// combine fills a lifted combine's step from the capture's CombineFn, or says why it is
// not covered.
func (env *chainEnv) combine(st *step, id, urn string) string {
	st.kind = map[string]stepKind{urnPrecombine: stepPrecombine, urnMerge: stepMerge, urnExtract: stepExtract}[urn]
	e, ok := env.combines[baseID(id)]
	if !ok || e.Fn == nil {
		return fmt.Sprintf("transform %s: the capture has no CombineFn for it", st.name)
	}
	return st.planCombine(e)
}

// planCombine fills a combine step of known kind from its capture edge.
func (st *step) planCombine(e capture.Edge) string {
	fn := e.Fn
	st.fn = fn.Name
	what := fn.Kind + " CombineFn " + shortFn(fn.Name)
	if fn.Kind != "func" && fn.Kind != "struct" {
		return what + ": " + notCovered
	}
	cf := &combineFn{kind: fn.Kind}
	var lifecycle []capture.Method
	for _, m := range fn.Methods {
		var slot **sdfMethod
		switch m.Name {
		case "CreateAccumulator":
			slot = &cf.create
		case "AddInput":
			slot = &cf.add
		case "MergeAccumulators":
			slot = &cf.merge
		case "ExtractOutput":
			slot = &cf.extract
		case "Compact":
			continue // the SDK's exec nodes never call it
		case "Setup", "Teardown":
			lifecycle = append(lifecycle, m)
			continue
		default:
			return fmt.Sprintf("%s: its %s method: %s", what, m.Name, notCovered)
		}
		sm, why := planSDFMethod(m, what)
		if why != "" {
			return why
		}
		*slot = sm
	}
	if cf.merge == nil {
		return what + " has no MergeAccumulators in the capture"
	}
	a := cf.merge.out
	cf.accum = a
	bad := func(m *sdfMethod) string {
		return fmt.Sprintf("%s: its %s (%s) does not fit its accumulator %s", what, m.name, m.fnType.str, a.str)
	}
	switch {
	case len(cf.merge.in) != 2 || cf.merge.in[0].str != a.str || cf.merge.in[1].str != a.str:
		return bad(cf.merge)
	case cf.create != nil && (len(cf.create.in) != 0 || cf.create.out.str != a.str):
		return bad(cf.create)
	case cf.add != nil && (len(cf.add.in) != 2 || cf.add.in[0].str != a.str || cf.add.out.str != a.str):
		return bad(cf.add)
	case cf.extract != nil && (len(cf.extract.in) != 1 || cf.extract.in[0].str != a.str):
		return bad(cf.extract)
	}
	if e.Accum == nil || valueTypeString(*e.Accum) != a.str {
		return fmt.Sprintf("%s: its accumulator's Go type does not match its signature", what)
	}
	cf.accumValue = *e.Accum
	cf.boxed = !a.nameable() || (cf.add != nil && !cf.add.in[1].nameable()) || (cf.extract != nil && !cf.extract.out.nameable())
	st.comb = cf
	if fn.Kind == "func" {
		st.fnType = cf.merge.fnType
		return ""
	}
	return st.planCombineStruct(fn, what, lifecycle)
}

// planCombineStruct fills st.recv for a struct CombineFn: its Setup and Teardown, and
// (unless boxed) the methods the step calls, which the stage holds typed method values
// of when it cannot name the struct.
func (st *step) planCombineStruct(fn *capture.Fn, what string, lcs []capture.Method) string {
	typ, err := parseType(fn.Type)
	if err != nil {
		return fmt.Sprintf("%s: its type %s: %v", what, fn.Type, err)
	}
	named := typ
	if typ.kind == "ptr" {
		named = typ.elem
	}
	if named.kind != "named" || named.pkg == "" {
		return fmt.Sprintf("%s: its type %s is not a named struct", what, fn.Type)
	}
	sf := &structFn{typ: typ, named: named, noProcess: true}
	for _, m := range lcs {
		lc := &lifecycle{name: m.Name}
		if lc.fnType, err = methodType(m); err != nil {
			return fmt.Sprintf("%s: its %s: %v", what, m.Name, err)
		}
		for _, p := range m.Params {
			if p.Kind != "Context" || p.Type != "context.Context" {
				return fmt.Sprintf("%s: a %s parameter of %s: %s", what, p.Kind, m.Name, notCovered)
			}
			lc.params = append(lc.params, sigPart{kind: "Context"})
		}
		for _, r := range m.Returns {
			if r.Kind != "Error" || r.Type != "error" || lc.hasErr {
				return fmt.Sprintf("%s: a %s result of %s: %s", what, r.Kind, m.Name, notCovered)
			}
			lc.hasErr = true
		}
		sf.lifecycle = append(sf.lifecycle, lc)
	}
	if !st.comb.boxed {
		sf.calls = st.comb.calls(st.kind)
	}
	st.recv = sf
	return ""
}

// checkCombine verifies that a combine step's CombineFn fits the values of its input and
// output: KV<key, V> to KV<key, A> (precombine), KV<key, iterable<A>> to KV<key, A>
// (merge), KV<key, A> to KV<key, O> (extract).
func (st *step) checkCombine() string {
	cf := st.comb
	a := cf.accum.str
	in := st.in.parts
	if len(in) != 2 || len(st.outs) != 1 || len(st.outs[0].parts) != 2 {
		return "its input or output is not a KV"
	}
	out := st.outs[0].parts
	if valueTypeString(out[0]) != valueTypeString(in[0]) {
		return "its output's key is not its input's"
	}
	notAccum := func(what string, v capture.Value) string {
		return fmt.Sprintf("its %s %s is not the accumulator type %s", what, valueTypeString(v), a)
	}
	switch st.kind {
	case stepPrecombine:
		if why := precombineKey(in[0]); why != "" {
			return why
		}
		if cf.add != nil {
			if why := fits(cf.add.in[1:], in[1:], "AddInput reads"); why != "" {
				return why
			}
		} else if valueTypeString(in[1]) != a {
			return notAccum("input", in[1])
		}
	case stepMerge:
		if in[1].Kind != capture.ValueIterable || valueTypeString(in[1].Components[0]) != a {
			return notAccum("input", in[1])
		}
	case stepCombine:
		if in[1].Kind != capture.ValueIterable {
			return "its input is not grouped values"
		}
		if cf.add != nil {
			if why := fits(cf.add.in[1:], in[1].Components, "AddInput reads"); why != "" {
				return why
			}
		} else if valueTypeString(in[1].Components[0]) != a {
			return notAccum("input", in[1].Components[0])
		}
		fallthrough
	case stepExtract:
		if st.kind == stepExtract && valueTypeString(in[1]) != a {
			return notAccum("input", in[1])
		}
		if cf.extract == nil {
			if valueTypeString(out[1]) != a {
				return notAccum("output", out[1])
			}
			return ""
		}
		return fits([]*goTyp{cf.extract.out}, out[1:], "ExtractOutput returns")
	}
	if valueTypeString(out[1]) != a {
		return notAccum("output", out[1])
	}
	return ""
}

// checkHeld says why the chain cannot hold a value it cannot name ("" if it can): such a
// value is held as any, so only boxed combine steps (or a combine's key, which no
// method takes), ParDos (planBoxed says how they call their function), intrinsics and
// WindowInto (which pass values on as they are) may take or make it, and a stage port
// carrying it must be coded with the SDK's coder.
func (ch *chain) checkHeld() string {
	producer := map[*pcoll]*step{}
	for _, st := range ch.steps {
		for _, pc := range st.outs {
			producer[pc] = st
		}
	}
	takes := func(st *step, part int) bool {
		switch {
		case st == nil:
			return false
		case st.comb != nil:
			return st.comb.boxed || part == 0
		}
		return st.kind == stepParDo || st.kind == stepWindowInto
	}
	for _, pc := range ch.pcolls {
		for i, p := range pc.parts {
			why := spellable(p)
			if why == "" {
				continue
			}
			why = fmt.Sprintf("PCollection %s: %s", pc.name, why)
			if pc == ch.input && ch.inCode != nil || pc != ch.input && !takes(producer[pc], i) {
				return why
			}
			for _, st := range pc.consumers {
				if !takes(st, i) {
					return why
				}
			}
			for _, o := range pc.outIdx {
				if ch.outs[o] != nil {
					return why
				}
			}
		}
	}
	return ""
}

// nameable says whether the generated package can spell t.
func (t *goTyp) nameable() bool {
	switch t.kind {
	case "any":
		return true
	case "slice", "ptr":
		return t.elem.nameable()
	case "map":
		return t.key.nameable() && t.elem.nameable()
	case "func":
		for _, p := range append(append([]*goTyp{}, t.params...), t.results...) {
			if !p.nameable() {
				return false
			}
		}
		return true
	}
	return t.pkg == "" || t.pkg == "main" || (exported(t.name) && importable(t.pkg))
}

// valType is the Go type a chain holds a part as: its own, or any (or []any for an
// iterable) when the generated package cannot name it.
func valType(p capture.Value) jen.Code {
	switch {
	case spellable(p) == "":
		return goType(p)
	case p.Kind == capture.ValueIterable:
		return jen.Index().Any()
	}
	return jen.Any()
}

// combineGrouped fills the step of a combine the planner did not lift (a non-default
// trigger): a ParDo of the composite's expansion, whose payload holds the CombineFn.
func (env *chainEnv) combineGrouped(st *step, e capture.Edge) string {
	st.kind = stepCombine
	if e.Fn == nil {
		return fmt.Sprintf("transform %s: the capture has no CombineFn for it", st.name)
	}
	return st.planCombine(e)
}
