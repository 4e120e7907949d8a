package gen

import (
	"strings"
	"testing"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// Which stateful ParDos native chains cover, and why the others stay portable.
func TestStatefulWhy(t *testing.T) {
	value := &pipepb.StateSpec{Spec: &pipepb.StateSpec_ReadModifyWriteSpec{ReadModifyWriteSpec: &pipepb.ReadModifyWriteStateSpec{CoderId: "c"}}}
	ordered := &pipepb.StateSpec{Spec: &pipepb.StateSpec_OrderedListSpec{OrderedListSpec: &pipepb.OrderedListStateSpec{ElementCoderId: "c"}}}
	fn := func(states ...capture.State) *capture.Fn { return &capture.Fn{Name: "main.fn", State: states} }
	for _, c := range []struct {
		name string
		fn   *capture.Fn
		pd   *pipepb.ParDoPayload
		why  string
	}{
		{"stateless", fn(), &pipepb.ParDoPayload{}, ""},
		{"value", fn(capture.State{ID: "a", Kind: "Value"}), &pipepb.ParDoPayload{StateSpecs: map[string]*pipepb.StateSpec{"a": value}}, ""},
		{"every covered kind", fn(capture.State{ID: "a", Kind: "Bag"}, capture.State{ID: "b", Kind: "Combining"}, capture.State{ID: "c", Kind: "Map"}, capture.State{ID: "d", Kind: "Set"}),
			&pipepb.ParDoPayload{StateSpecs: map[string]*pipepb.StateSpec{"a": value, "b": value, "c": value, "d": value}}, ""},
		{"ordered list", fn(capture.State{ID: "a", Kind: "OrderedList"}), &pipepb.ParDoPayload{StateSpecs: map[string]*pipepb.StateSpec{"a": ordered}}, ""},
		{"unknown kind", fn(capture.State{ID: "a", Kind: "StateType(9)"}), &pipepb.ParDoPayload{StateSpecs: map[string]*pipepb.StateSpec{"a": value}}, `StateType(9) state "a" in main.fn: not covered yet`},
		{"timers", &capture.Fn{Name: "main.fn", Timers: []capture.Timer{{Family: "t"}}}, &pipepb.ParDoPayload{TimerFamilySpecs: map[string]*pipepb.TimerFamilySpec{"t": {}}}, ""},
		{"timers not in the payload", &capture.Fn{Name: "main.fn", Timers: []capture.Timer{{Family: "t"}}}, &pipepb.ParDoPayload{}, "timers in main.fn: 0 families in the payload, 1 in the capture"},
		{"state and timers", &capture.Fn{Name: "main.fn", State: []capture.State{{ID: "a", Kind: "Value"}}, Timers: []capture.Timer{{Family: "t"}}},
			&pipepb.ParDoPayload{StateSpecs: map[string]*pipepb.StateSpec{"a": value}, TimerFamilySpecs: map[string]*pipepb.TimerFamilySpec{"t": {}}}, ""},
		{"timers in the payload only", fn(), &pipepb.ParDoPayload{TimerFamilySpecs: map[string]*pipepb.TimerFamilySpec{"t": {}}}, "timers in main.fn: 1 families in the payload, 0 in the capture"},
		{"state and side inputs", fn(capture.State{ID: "a", Kind: "Value"}),
			&pipepb.ParDoPayload{StateSpecs: map[string]*pipepb.StateSpec{"a": value}, SideInputs: map[string]*pipepb.SideInput{"i1": {}}}, ""},
		{"timers and side inputs", &capture.Fn{Name: "main.fn", Timers: []capture.Timer{{Family: "t"}}},
			&pipepb.ParDoPayload{TimerFamilySpecs: map[string]*pipepb.TimerFamilySpec{"t": {}}, SideInputs: map[string]*pipepb.SideInput{"i1": {}}}, "timers and side inputs in main.fn: not covered yet"},
		{"payload and capture disagree", fn(capture.State{ID: "a", Kind: "Value"}), &pipepb.ParDoPayload{}, "1 in the capture"},
		{"state not in the payload", fn(capture.State{ID: "a", Kind: "Value"}), &pipepb.ParDoPayload{StateSpecs: map[string]*pipepb.StateSpec{"b": value}}, `user state "a" of main.fn is not in its payload`},
	} {
		got := statefulWhy(c.fn, c.pd)
		if (c.why == "") != (got == "") || !strings.Contains(got, c.why) {
			t.Errorf("%s: statefulWhy = %q, want %q", c.name, got, c.why)
		}
	}
}
