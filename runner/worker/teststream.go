package worker

import (
	"context"
	"fmt"
	"log/slog"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/runner/plan"
	"github.com/sluice-runner/sluice/runner/window"
	"github.com/sluice-runner/sluice/runner/wire"
)

// TestStreamTask replays a TestStream: its elements, with their timestamps and the windows
// of the output's windowing strategy, and its watermark advances, in the payload's order.
// Watermarks travel in band behind the records, so every consumer sees an element before a
// watermark that passes it, as the TestStream says. When the events are exhausted the
// watermark goes to +inf and the output ends. Processing-time advances have no effect:
// nothing in a pipeline Sluice accepts depends on processing time yet.
type TestStreamTask struct {
	Name     string
	Source   *plan.TestStreamSource
	Strategy window.Strategy
	// Out is the output of the TestStream's PCollection, nil if nothing reads it.
	Out    *Output
	Logger *slog.Logger
}

// Run implements Task.
func (t *TestStreamTask) Run(ctx context.Context) error {
	if t.Out == nil {
		return nil
	}
	outs := Outputs{t.Out}
	wm := wire.MinTimestamp
	var windows []wire.Window
	var rec []byte
	for i, ev := range t.Source.Events {
		switch e := ev.GetEvent().(type) {
		case *pipepb.TestStreamPayload_Event_ElementEvent:
			for _, te := range e.ElementEvent.GetElements() {
				var err error
				if windows, err = window.AssignWindows(windows[:0], t.Strategy, te.GetTimestamp()); err != nil {
					return fmt.Errorf("%s: event %d: %w", t.Name, i, err)
				}
				elem := te.GetEncodedElement()
				for range t.Source.LengthPrefixes {
					elem = wire.AppendLengthPrefixed(nil, elem)
				}
				rec = t.Out.Codec.Append(rec[:0], wire.WindowedValue{
					Timestamp: te.GetTimestamp(), Windows: windows, Pane: wire.PaneNoFiring, Element: elem,
				})
				if err := t.Out.Emit(ctx, rec); err != nil {
					return err
				}
			}
		case *pipepb.TestStreamPayload_Event_WatermarkEvent:
			if next := e.WatermarkEvent.GetNewWatermark(); next > wm {
				wm = next
				if err := outs.EmitWatermark(ctx, wm); err != nil {
					return err
				}
			}
		case *pipepb.TestStreamPayload_Event_ProcessingTimeEvent:
			t.Logger.Debug("TestStream processing-time advance has no effect", "task", t.Name, "advance_ms", e.ProcessingTimeEvent.GetAdvanceDuration())
		default:
			return fmt.Errorf("%s: TestStream event %d has unknown kind %T", t.Name, i, e)
		}
	}
	return outs.Close(ctx)
}
