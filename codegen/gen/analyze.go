package gen

import (
	"fmt"
	"strings"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/codegen/fingerprint"
	"github.com/sluice-runner/sluice/runner/plan"
)

// Analysis is a captured pipeline planned as the runner plans it, with a fingerprint per
// SDK stage: everything Generate writes.
type Analysis struct {
	Graph  *plan.JobGraph
	Stages []Stage
	Edges  []Edge
}

// Stage is one planned stage.
type Stage struct {
	ID   string // s<N>, in plan order
	Kind string // impulse, sdk, gbk, teststream
	// Fingerprint identifies an SDK stage's shape (see package fingerprint); empty for
	// runner stages.
	Fingerprint string
	Transforms  []Transform
	Input       string   // unique name of the input PCollection
	Outputs     []string // unique names of the output PCollections
	// Native says whether generated code runs the stage; Why says why not.
	Native bool
	Why    string
	// chain is the plan of the stage's generated code, for a native stage.
	chain *chain
}

// Transform is one leaf transform of a stage.
type Transform struct {
	ID   string
	Name string // unique name
	URN  string
	// Fn is the Go user function (symbol or struct type name) behind the transform, from
	// the capture; empty for transforms without one.
	Fn string
}

// Edge is one planned edge between stages.
type Edge struct {
	From, To     string
	PCollection  string // unique name
	Partitioning string
	Side         bool
	// Coder is the windowed_value wire coder both ends use, written out structurally.
	Coder string
	// Typed is the typed coder generated for the edge's elements; Untyped says why there
	// is none. Edges carrying the same PCollection share one.
	Typed   *EdgeCoder
	Untyped string
}

// Analyze plans the captured pipeline with the runner's planner (runner/plan, with the
// server's default options, so stage boundaries are the ones the runner will use) and
// fingerprints every SDK stage.
func Analyze(c *capture.Capture) (*Analysis, error) {
	g, err := plan.Plan(c.Pipeline, plan.Options{})
	if err != nil {
		return nil, fmt.Errorf("planning the captured pipeline: %w", err)
	}
	fns := goFns(c)
	comps := g.Components
	pcName := func(id string) string {
		if pc := comps.GetPcollections()[id]; pc != nil {
			return pc.GetUniqueName()
		}
		return id
	}
	a := &Analysis{Graph: g}
	for _, s := range g.Stages {
		st := Stage{ID: s.ID, Kind: s.Kind.String(), Input: pcName(s.Input)}
		for _, o := range s.Outputs {
			st.Outputs = append(st.Outputs, pcName(o))
		}
		for _, id := range s.Transforms {
			t := comps.GetTransforms()[id]
			tr := Transform{ID: id, Name: t.GetUniqueName(), URN: t.GetSpec().GetUrn()}
			if s.Kind == plan.KindSDK {
				tr.Fn = fns[baseID(id)]
			}
			st.Transforms = append(st.Transforms, tr)
		}
		if s.Kind == plan.KindSDK {
			fp, err := fingerprint.Of(comps, fingerprint.Stage{Transforms: s.Transforms, Input: s.Input, Outputs: s.Outputs})
			if err != nil {
				return nil, fmt.Errorf("stage %s: %w", s.ID, err)
			}
			st.Fingerprint = fp
		}
		a.Stages = append(a.Stages, st)
	}
	vals := values(c, comps)
	type coding struct {
		typed *EdgeCoder
		why   string
	}
	codings := map[string]coding{} // by PCollection: its edges share one
	names := map[string]bool{}
	for _, e := range g.Edges {
		ed := Edge{
			From: e.From, To: e.To, PCollection: pcName(e.PCollection),
			Partitioning: e.Partitioning.String(), Side: e.SideInput != nil,
			Coder: coderString(comps, g.PortCoders[e.PCollection], 0),
		}
		cd, ok := codings[e.PCollection]
		if !ok {
			name := strings.ToUpper(e.From[:1]) + e.From[1:] + "To" + strings.ToUpper(e.To[:1]) + e.To[1:]
			for names[name] {
				name += "X"
			}
			cd.typed, cd.why = edgeCoder(comps, g.PortCoders[e.PCollection], vals[e.PCollection], name)
			if cd.typed != nil {
				names[name] = true
			}
			codings[e.PCollection] = cd
		}
		ed.Typed, ed.Untyped = cd.typed, cd.why
		a.Edges = append(a.Edges, ed)
	}
	env := &chainEnv{comps: comps, pardos: map[string]capture.Edge{}, combines: map[string]capture.Edge{},
		vals: vals, coders: map[string]*EdgeCoder{}, untyped: map[string]string{}}
	for pc, cd := range codings {
		env.coders[pc], env.untyped[pc] = cd.typed, cd.why
	}
	for _, e := range c.Edges {
		env.pardos[e.ID] = e
		if e.Composite != "" {
			env.combines[e.Composite] = e
		}
	}
	for i, s := range g.Stages {
		if s.Kind != plan.KindSDK {
			continue
		}
		st := &a.Stages[i]
		st.chain, st.Why = chainFor(env, s)
		st.Native = st.chain != nil
	}
	return a, nil
}

// values maps PCollections to the values of their elements: those of the capture's ports,
// and those the planner made when it lifted a combine, derived from the capture's Combine
// edge: partial accumulators KV<key, accum>, then grouped KV<key, iterable<accum>>.
func values(c *capture.Capture, comps *pipepb.Components) map[string]*capture.Value {
	m := map[string]*capture.Value{}
	combines := map[string]capture.Edge{} // by composite id
	for _, e := range c.Edges {
		for _, ports := range [][]capture.Port{e.Inputs, e.Outputs} {
			for i := range ports {
				m[ports[i].PCollection] = &ports[i].Value
			}
		}
		if e.Composite != "" && e.Accum != nil && len(e.Inputs) == 1 {
			combines[e.Composite] = e
		}
	}
	ts := comps.GetTransforms()
	partials := map[string]capture.Value{} // partial PCollection -> its key
	for id, t := range ts {
		e, ok := combines[baseID(id)]
		in := e.Inputs
		if !ok || t.GetSpec().GetUrn() != urnPrecombine || len(t.GetOutputs()) != 1 || in[0].Value.Kind != capture.ValueCoGBK || len(in[0].Value.Components) < 1 {
			continue
		}
		key := in[0].Value.Components[0]
		for _, out := range t.GetOutputs() {
			m[out] = &capture.Value{Kind: capture.ValueKV, Components: []capture.Value{key, *e.Accum}}
			partials[out] = key
		}
	}
	for _, t := range ts {
		if t.GetSpec().GetUrn() != urnGroupByKey || len(t.GetInputs()) != 1 || len(t.GetOutputs()) != 1 {
			continue
		}
		for _, in := range t.GetInputs() {
			if key, ok := partials[in]; ok {
				accum := m[in].Components[1]
				for _, out := range t.GetOutputs() {
					m[out] = &capture.Value{Kind: capture.ValueKV, Components: []capture.Value{key,
						{Kind: capture.ValueIterable, Components: []capture.Value{accum}}}}
				}
			}
		}
	}
	// The merged accumulators, between merge and extract: KV<key, accum> again.
	for id, t := range ts {
		if t.GetSpec().GetUrn() != urnMerge || len(t.GetInputs()) != 1 || len(t.GetOutputs()) != 1 {
			continue
		}
		for _, in := range t.GetInputs() {
			if g := m[in]; g != nil && combines[baseID(id)].Accum != nil && len(g.Components) == 2 {
				for _, out := range t.GetOutputs() {
					m[out] = &capture.Value{Kind: capture.ValueKV, Components: []capture.Value{g.Components[0], *combines[baseID(id)].Accum}}
				}
			}
		}
	}
	// A GroupByKey's output (a CoGBK of one input) travels as KV<key, iterable<value>>:
	// so chains and edge coders see it (a DoFn iterates over the decoded values).
	for pc, v := range m {
		if v.Kind == capture.ValueCoGBK && len(v.Components) == 2 {
			m[pc] = &capture.Value{Kind: capture.ValueKV, Components: []capture.Value{v.Components[0],
				{Kind: capture.ValueIterable, Components: []capture.Value{v.Components[1]}}}}
		}
	}
	sdfValues(c, comps, m)
	cogbkValues(comps, m)
	return m
}

// Transform URNs values looks for.
const (
	urnPrecombine = "beam:transform:combine_per_key_precombine:v1"
	urnGroupByKey = "beam:transform:group_by_key:v1"
)

// goFns maps the transform ids of the capture's edges to their user functions. A lifted
// combine's leaves are "<composite>/precombine" and so on, and a splittable DoFn's are
// "<id>/pair" and so on: both map through baseID.
func goFns(c *capture.Capture) map[string]string {
	m := map[string]string{}
	for _, e := range c.Edges {
		if e.Fn == nil {
			continue
		}
		m[e.ID] = e.Fn.Name
		if e.Composite != "" {
			m[e.Composite] = e.Fn.Name
		}
	}
	return m
}

func baseID(id string) string {
	if i := strings.IndexByte(id, '/'); i >= 0 {
		return id[:i]
	}
	return id
}

// coderString writes a coder out as urn<components>, URNs shortened.
func coderString(comps *pipepb.Components, id string, depth int) string {
	c := comps.GetCoders()[id]
	if c == nil || depth > 32 {
		return "?"
	}
	u := c.GetSpec().GetUrn()
	for _, p := range []string{"beam:coder:", "beam:go:coder:"} {
		u = strings.TrimPrefix(u, p)
	}
	u = strings.TrimSuffix(u, ":v1")
	if len(c.GetComponentCoderIds()) == 0 {
		return u
	}
	parts := make([]string, 0, len(c.GetComponentCoderIds()))
	for _, cc := range c.GetComponentCoderIds() {
		parts = append(parts, coderString(comps, cc, depth+1))
	}
	return u + "<" + strings.Join(parts, ",") + ">"
}

// Summary is a readable dump of the analysis: stages with their transforms, Go functions
// and fingerprints, then edges with their wire coders.
func (a *Analysis) Summary() string {
	var b strings.Builder
	for _, s := range a.Stages {
		fmt.Fprintf(&b, "stage %s %s", s.ID, s.Kind)
		if s.Fingerprint != "" {
			fmt.Fprintf(&b, " fp=%s", s.Fingerprint)
		}
		b.WriteString("\n")
		for _, t := range s.Transforms {
			fmt.Fprintf(&b, "  %s [%s]", t.Name, t.URN)
			if t.Fn != "" {
				fmt.Fprintf(&b, " fn=%s", t.Fn)
			}
			b.WriteString("\n")
		}
		if s.Input != "" {
			fmt.Fprintf(&b, "  in:  %s\n", s.Input)
		}
		for _, o := range s.Outputs {
			fmt.Fprintf(&b, "  out: %s\n", o)
		}
	}
	for _, e := range a.Edges {
		side := ""
		if e.Side {
			side = " (side input)"
		}
		fmt.Fprintf(&b, "edge %s -> %s %s %s%s = %s\n", e.From, e.To, e.Partitioning, e.PCollection, side, e.Coder)
	}
	return b.String()
}

// Fingerprints maps stage id to fingerprint for the SDK stages.
func (a *Analysis) Fingerprints() map[string]string {
	m := map[string]string{}
	for _, s := range a.Stages {
		if s.Fingerprint != "" {
			m[s.ID] = s.Fingerprint
		}
	}
	return m
}
