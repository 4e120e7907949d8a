package wire

import (
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"
)

// LengthPrefixUnknownCoders returns the id of a coder equivalent to coderID
// in which every component the runner cannot parse is wrapped in
// beam:coder:length_prefix:v1, so the runner can skip it. The SDK then
// length-prefixes those values on the wire, and the runner never needs to
// understand user coders.
//
// New coders are added to comps.Coders under deterministic ids derived from
// the original (id+"_lp", or id+"_lp2", ... if that id is taken by a
// different coder); an existing identical coder is reused, so the rewrite is
// idempotent and repeated calls do not grow comps. If nothing needs
// wrapping, coderID itself is returned.
//
// Only coders crossing the SDK boundary should be rewritten: coders of
// PCollections inside a fused stage stay as the SDK chose them.
func LengthPrefixUnknownCoders(comps *pipepb.Components, coderID string) (string, error) {
	if comps == nil {
		return "", fmt.Errorf("length-prefixing coder %q: no pipeline components", coderID)
	}
	if comps.Coders == nil {
		comps.Coders = map[string]*pipepb.Coder{}
	}
	lp := &lpRewriter{comps: comps, done: map[string]string{}}
	return lp.rewrite(coderID, 0)
}

type lpRewriter struct {
	comps *pipepb.Components
	done  map[string]string // coder id -> rewritten id, within this call
}

func (r *lpRewriter) rewrite(id string, depth int) (string, error) {
	if out, ok := r.done[id]; ok {
		return out, nil
	}
	if depth > maxCoderDepth {
		return "", fmt.Errorf("coder %q nests deeper than %d levels: %w", id, maxCoderDepth, ErrMalformed)
	}
	c, ok := r.comps.Coders[id]
	if !ok || c == nil {
		return "", fmt.Errorf("length-prefixing: coder %q not found in pipeline components", id)
	}
	urn := c.GetSpec().GetUrn()
	var out string
	switch {
	case leafURNs[urn]:
		out = id
	case compositeArity[urn] > 0:
		if got, want := len(c.GetComponentCoderIds()), compositeArity[urn]; got != want {
			return "", fmt.Errorf("length-prefixing coder %q (%s): has %d components, want %d: %w", id, urn, got, want, ErrMalformed)
		}
		changed := false
		ccs := make([]string, len(c.GetComponentCoderIds()))
		for i, cc := range c.GetComponentCoderIds() {
			rc, err := r.rewrite(cc, depth+1)
			if err != nil {
				return "", fmt.Errorf("component %d of coder %q (%s): %w", i, id, urn, err)
			}
			ccs[i] = rc
			changed = changed || rc != cc
		}
		out = id
		if changed {
			out = r.add(id, &pipepb.Coder{
				Spec:              proto.Clone(c.GetSpec()).(*pipepb.FunctionSpec),
				ComponentCoderIds: ccs,
			})
		}
	default:
		// Unknown (user coders, row, ...): the runner only ever skips it.
		out = r.add(id, &pipepb.Coder{
			Spec:              &pipepb.FunctionSpec{Urn: URNLengthPrefix},
			ComponentCoderIds: []string{id},
		})
	}
	r.done[id] = out
	return out, nil
}

// add stores c under the first free id of id+"_lp", id+"_lp2", ...,
// reusing an identical coder already stored there.
func (r *lpRewriter) add(id string, c *pipepb.Coder) string {
	for i := 1; ; i++ {
		nid := id + "_lp"
		if i > 1 {
			nid = fmt.Sprintf("%s_lp%d", id, i)
		}
		old, taken := r.comps.Coders[nid]
		if !taken {
			r.comps.Coders[nid] = c
			return nid
		}
		if proto.Equal(old, c) {
			return nid
		}
	}
}
