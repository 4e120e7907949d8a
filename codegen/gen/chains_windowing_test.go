package gen

import (
	"strings"
	"testing"
	"time"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func windowIntoTransform(t *testing.T, urn string, payload proto.Message) *pipepb.PTransform {
	t.Helper()
	var b []byte
	if payload != nil {
		var err error
		if b, err = proto.Marshal(payload); err != nil {
			t.Fatal(err)
		}
	}
	wp, err := proto.Marshal(&pipepb.WindowIntoPayload{WindowFn: &pipepb.FunctionSpec{Urn: urn, Payload: b}})
	if err != nil {
		t.Fatal(err)
	}
	return &pipepb.PTransform{UniqueName: "W", Spec: &pipepb.FunctionSpec{Urn: urnWindowInto, Payload: wp}}
}

// WindowInto's window fns: their durations in milliseconds, as the SDK uses them, or why
// the step stays portable.
func TestWindowIntoPayloads(t *testing.T) {
	d := durationpb.New
	for _, c := range []struct {
		name    string
		urn     string
		payload proto.Message
		want    windowAssign
		why     string
	}{
		{"global", urnGlobalWindows, nil, windowAssign{urn: urnGlobalWindows}, ""},
		{"fixed", urnFixedWindows, &pipepb.FixedWindowsPayload{Size: d(2 * time.Second)}, windowAssign{urn: urnFixedWindows, size: 2000}, ""},
		{"sliding", urnSlidingWindows, &pipepb.SlidingWindowsPayload{Size: d(time.Minute), Period: d(1500 * time.Microsecond)}, windowAssign{urn: urnSlidingWindows, size: 60000, period: 1}, ""},
		{"sessions", urnSessionWindows, &pipepb.SessionWindowsPayload{GapSize: d(300 * time.Millisecond)}, windowAssign{urn: urnSessionWindows, gap: 300}, ""},
		{"offset", urnFixedWindows, &pipepb.FixedWindowsPayload{Size: d(time.Second), Offset: &timestamppb.Timestamp{Seconds: 1}}, windowAssign{}, "with an offset"},
		{"sub-millisecond", urnFixedWindows, &pipepb.FixedWindowsPayload{Size: d(time.Microsecond)}, windowAssign{}, "not a positive number of milliseconds"},
		{"no period", urnSlidingWindows, &pipepb.SlidingWindowsPayload{Size: d(time.Second)}, windowAssign{}, "its period"},
		{"custom", "beam:window_fn:custom:v1", nil, windowAssign{}, "window fn beam:window_fn:custom:v1: not covered yet"},
	} {
		st := &step{name: "W"}
		why := (&chainEnv{}).windowInto(st, windowIntoTransform(t, c.urn, c.payload))
		switch {
		case c.why == "" && (why != "" || *st.win != c.want):
			t.Errorf("%s: %+v, why %q; want %+v", c.name, st.win, why, c.want)
		case c.why != "" && !strings.Contains(why, c.why):
			t.Errorf("%s: why %q, want %q", c.name, why, c.why)
		}
	}
}

// Splittable DoFns stay portable on interval windows: the SDK's nodes for them observe
// windows in ways chains do not run.
func TestSplittableOnWindowsIsPortable(t *testing.T) {
	for _, k := range []stepKind{stepSDFPair, stepSDFSplit, stepSDFProcess} {
		st := &step{kind: k, in: &pcoll{}, outs: []*pcoll{{windowed: true}}}
		if why := st.checkWindows(); !strings.Contains(why, "splittable DoFn on interval windows") {
			t.Errorf("kind %d: why %q", k, why)
		}
		st.outs[0].windowed = false
		if why := st.checkWindows(); why != "" {
			t.Errorf("kind %d in the global window: why %q", k, why)
		}
	}
}
