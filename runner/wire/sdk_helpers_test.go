package wire

import (
	"bytes"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	bwindow "github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

// compsFor marshals Go SDK coders into pipeline components, the way the
// SDK would send them to a runner.
func compsFor(t *testing.T, cs ...*coder.Coder) (*pipepb.Components, []string) {
	t.Helper()
	m := graphx.NewCoderMarshaller()
	ids, err := m.AddMulti(cs)
	if err != nil {
		t.Fatalf("marshalling coders: %v", err)
	}
	return &pipepb.Components{Coders: m.Build()}, ids
}

// sdkEncode encodes fv with the Go SDK's own encoder for c.
func sdkEncode(t *testing.T, c *coder.Coder, fv *exec.FullValue) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := exec.MakeElementEncoder(c).Encode(fv, &buf); err != nil {
		t.Fatalf("SDK encoding %v with %v: %v", fv, c, err)
	}
	return buf.Bytes()
}

func toSDKWindows(ws []Window) []typex.Window {
	out := make([]typex.Window, len(ws))
	for i, w := range ws {
		switch w := w.(type) {
		case GlobalWindow:
			out[i] = bwindow.GlobalWindow{}
		case IntervalWindow:
			out[i] = bwindow.IntervalWindow{Start: mtime.Time(w.Start), End: mtime.Time(w.End)}
		}
	}
	return out
}

func fromSDKWindows(ws []typex.Window) []Window {
	out := make([]Window, len(ws))
	for i, w := range ws {
		switch w := w.(type) {
		case bwindow.GlobalWindow:
			out[i] = GlobalWindow{}
		case bwindow.IntervalWindow:
			out[i] = IntervalWindow{Start: int64(w.Start), End: int64(w.End)}
		}
	}
	return out
}

func toSDKPane(p PaneInfo) typex.PaneInfo {
	return typex.PaneInfo{Timing: typex.PaneTiming(p.Timing), IsFirst: p.IsFirst, IsLast: p.IsLast,
		Index: p.Index, NonSpeculativeIndex: p.NonSpeculativeIndex}
}

func fromSDKPane(p typex.PaneInfo) PaneInfo {
	return PaneInfo{Timing: PaneTiming(p.Timing), IsFirst: p.IsFirst, IsLast: p.IsLast,
		Index: p.Index, NonSpeculativeIndex: p.NonSpeculativeIndex}
}
