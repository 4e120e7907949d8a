package worker

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/runner/plan"
	"github.com/sluice-runner/sluice/runner/window"
	"github.com/sluice-runner/sluice/runner/wire"
)

// TestStreamTask replays a TestStream: its elements, with their timestamps and the windows
// of the output's windowing strategy, and its watermark advances, in the payload's order.
// Watermarks travel in band behind the records, so every consumer sees an element before a
// watermark that passes it, as the TestStream says. When the events are exhausted the
// watermark goes to +inf and the output ends.
//
// A TestStream also owns the job's processing time: its clock starts at the wall-clock
// time the task starts (so that times the SDK takes from time.Now() compare sensibly) and
// moves only when the stream advances it. The time travels in band like watermarks, so
// every task sees it after the elements that came before it; tasks of a job with a
// TestStream use it instead of the wall clock (see SDKTask.VirtualClock).
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
	pt := time.Now().UnixMilli()
	if err := outs.EmitProcessingTime(ctx, pt); err != nil {
		return err
	}
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
			d := e.ProcessingTimeEvent.GetAdvanceDuration()
			if d <= 0 {
				continue
			}
			if d >= wire.MaxTimestamp-pt {
				pt = math.MaxInt64 // to infinity
			} else {
				pt += d
			}
			if err := outs.EmitProcessingTime(ctx, pt); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: TestStream event %d has unknown kind %T", t.Name, i, e)
		}
	}
	return outs.Close(ctx)
}
