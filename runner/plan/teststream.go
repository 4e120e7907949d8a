package plan

import (
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-runner/sluice/runner/wire"
)

// TestStreamSource is what the runner needs to replay a beam:transform:teststream:v1: its
// events, and how its encoded elements become elements of the output's port coder.
type TestStreamSource struct {
	Events []*pipepb.TestStreamPayload_Event
	// Output is the PCollection the events go to.
	Output string
	// LengthPrefixes is how many length prefixes each encoded element gets: the output's
	// coder and its port coder may each wrap the payload's coder in one.
	LengthPrefixes int
}

// testStreamPayload decodes and checks the payload of TestStream transform t.
func testStreamPayload(t *pipepb.PTransform) (*pipepb.TestStreamPayload, error) {
	var pl pipepb.TestStreamPayload
	if err := proto.Unmarshal(t.GetSpec().GetPayload(), &pl); err != nil {
		return nil, fmt.Errorf("transform %q: bad TestStreamPayload: %w", t.GetUniqueName(), err)
	}
	if pl.GetEndpoint().GetUrl() != "" {
		return nil, fmt.Errorf("transform %q: a TestStream reading its events from a service (%s) is not supported; give the events in the payload",
			t.GetUniqueName(), pl.GetEndpoint().GetUrl())
	}
	if len(t.GetOutputs()) != 1 {
		return nil, fmt.Errorf("transform %q: a TestStream needs exactly one output, has %d", t.GetUniqueName(), len(t.GetOutputs()))
	}
	for i, ev := range pl.GetEvents() {
		if ev.GetEvent() == nil {
			return nil, fmt.Errorf("transform %q: TestStream event %d is empty", t.GetUniqueName(), i)
		}
	}
	return &pl, nil
}

// describeTestStream fills s.TestStream once the output's port coder is fixed. The
// elements arrive encoded with the payload's coder; the output's coder may be that coder
// wrapped in a length prefix (the Go SDK does this for its custom coders), and so may the
// port coder. The runner re-frames elements only by such prefixes around the whole
// element, so any other difference between the coders is refused.
func (g *JobGraph) describeTestStream(s *Stage, lp *leafPipeline) error {
	t := lp.leaves[s.Transforms[0]]
	pl, err := testStreamPayload(t)
	if err != nil {
		return err
	}
	out, err := singleValue(t.GetOutputs())
	if err != nil {
		return fmt.Errorf("transform %q: %w", t.GetUniqueName(), err)
	}
	s.TestStream = &TestStreamSource{Events: pl.GetEvents(), Output: out}
	if !contains(s.Outputs, out) {
		return nil // nobody reads it
	}
	port, err := g.portCoder(out)
	if err != nil {
		return err
	}
	comps := g.Components
	elem := comps.GetPcollections()[out].GetCoderId()
	wireElem := comps.GetCoders()[port].GetComponentCoderIds()[0]
	for i, step := range [][2]string{{pl.GetCoderId(), elem}, {elem, wireElem}} {
		switch {
		case sameCoder(comps, step[0], step[1]):
		case i == 0 && isLengthPrefixOf(comps, step[1], step[0]) && comps.GetCoders()[step[0]].GetSpec().GetUrn() == urnGoCustomCoder:
			// The Go SDK's element encoder writes its custom coders length-prefixed already.
		case isLengthPrefixOf(comps, step[1], step[0]):
			s.TestStream.LengthPrefixes++
		default:
			return fmt.Errorf("transform %q: TestStream elements are encoded with coder %q, which Sluice cannot re-frame as coder %q of output %q",
				t.GetUniqueName(), step[0], step[1], out)
		}
	}
	return nil
}

// urnGoCustomCoder is the Go SDK's coder for types it encodes with user functions.
const urnGoCustomCoder = "beam:go:coder:custom:v1"

func sameCoder(comps *pipepb.Components, a, b string) bool {
	return a == b || proto.Equal(comps.GetCoders()[a], comps.GetCoders()[b])
}

// isLengthPrefixOf reports whether coder outer is beam:coder:length_prefix:v1 of inner.
func isLengthPrefixOf(comps *pipepb.Components, outer, inner string) bool {
	c := comps.GetCoders()[outer]
	return c.GetSpec().GetUrn() == wire.URNLengthPrefix && len(c.GetComponentCoderIds()) == 1 &&
		sameCoder(comps, c.GetComponentCoderIds()[0], inner)
}
