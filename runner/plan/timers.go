package plan

import (
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-runner/sluice/runner/wire"
)

// TimerFamily is one timer family of a transform in an SDK stage: the runner keeps its
// timers, de-duplicated per (key, window, tag), and sends them back to the SDK when they
// fire.
type TimerFamily struct {
	TransformID string
	Family      string
	Domain      pipepb.TimeDomain_Enum
	// CoderID is the family's beam:coder:timer:v1 coder as the stage's descriptor has it,
	// with unknown key coders length-prefixed so that the runner can cut timers apart.
	CoderID string
}

// validateTimerFamilies refuses timer families the runner cannot keep: an unknown time
// domain or a timer coder it cannot read.
func validateTimerFamilies(comps *pipepb.Components, t *pipepb.PTransform, pd *pipepb.ParDoPayload) error {
	for _, id := range sortedKeys(pd.GetTimerFamilySpecs()) {
		spec := pd.GetTimerFamilySpecs()[id]
		switch spec.GetTimeDomain() {
		case pipepb.TimeDomain_EVENT_TIME, pipepb.TimeDomain_PROCESSING_TIME:
		default:
			return fmt.Errorf("transform %q: timer family %q has time domain %v; Sluice supports event time and processing time", t.GetUniqueName(), id, spec.GetTimeDomain())
		}
		c := comps.GetCoders()[spec.GetTimerFamilyCoderId()]
		if c.GetSpec().GetUrn() != wire.URNTimer {
			return fmt.Errorf("transform %q: timer family %q has coder %q (%s), want a %s coder", t.GetUniqueName(), id, spec.GetTimerFamilyCoderId(), c.GetSpec().GetUrn(), wire.URNTimer)
		}
	}
	return nil
}

// describeTimers points each timer family of the stage's ParDo t at a length-prefixed copy
// of its coder, records the families on the stage, and returns t (a copy when changed).
func (g *JobGraph) describeTimers(s *Stage, id string, t *pipepb.PTransform) (*pipepb.PTransform, error) {
	if t.GetSpec().GetUrn() != urnParDo {
		return t, nil
	}
	var pd pipepb.ParDoPayload
	if err := proto.Unmarshal(t.GetSpec().GetPayload(), &pd); err != nil {
		return nil, fmt.Errorf("transform %q: bad ParDoPayload: %w", t.GetUniqueName(), err)
	}
	if len(pd.GetTimerFamilySpecs()) == 0 {
		return t, nil
	}
	for _, family := range sortedKeys(pd.GetTimerFamilySpecs()) {
		spec := pd.GetTimerFamilySpecs()[family]
		coderID, err := wire.LengthPrefixUnknownCoders(g.Components, spec.GetTimerFamilyCoderId())
		if err != nil {
			return nil, fmt.Errorf("transform %q: timer family %q: %w", t.GetUniqueName(), family, err)
		}
		if _, err := wire.NewCodec(g.Components, coderID); err != nil {
			return nil, fmt.Errorf("transform %q: timer family %q: the runner cannot read its coder: %w", t.GetUniqueName(), family, err)
		}
		spec.TimerFamilyCoderId = coderID
		s.TimerFamilies = append(s.TimerFamilies, TimerFamily{TransformID: id, Family: family, Domain: spec.GetTimeDomain(), CoderID: coderID})
	}
	payload, err := proto.Marshal(&pd)
	if err != nil {
		return nil, fmt.Errorf("transform %q: encoding its ParDoPayload: %w", t.GetUniqueName(), err)
	}
	t = proto.Clone(t).(*pipepb.PTransform)
	t.Spec.Payload = payload
	return t, nil
}
