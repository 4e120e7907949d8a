package worker

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"

	"github.com/sluice-runner/sluice/shuffle"
)

// GroupTask runs a GroupBuffer as its own task, for a GroupByKey whose output goes to
// other tasks (not chained into one SDK stage).
type GroupTask struct {
	Name   string
	Input  *shuffle.InputGate
	Buffer *GroupBuffer
	Out    *Output
	Logger *slog.Logger
}

// Run implements Task.
func (t *GroupTask) Run(ctx context.Context) error {
	emit := func(rec []byte, rest ...[]byte) error {
		if len(rest) > 0 { // a shuffle record is a whole element (Buffer.Pieces is off here)
			rec = slices.Concat(append([][]byte{rec}, rest...)...)
		}
		return t.Out.Emit(ctx, rec)
	}
	// release runs after every firing: no bundle reads the store here, so fired state
	// goes at once.
	release := func(err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		return t.Buffer.Release()
	}
	for {
		ev, ok, err := nextEventBy(ctx, t.Input, t.Buffer.NextProcessingTime())
		if err != nil {
			return err
		}
		if !ok { // a processing-time trigger may fire
			if err := release(t.Buffer.Fire(t.Buffer.Watermark(), emit)); err != nil {
				return err
			}
			continue
		}
		switch ev.Kind {
		case shuffle.EventRecord:
			if err := t.Buffer.Add(ev.Record); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			if t.Buffer.Ready() {
				if err := release(t.Buffer.Fire(t.Buffer.Watermark(), emit)); err != nil {
					return err
				}
			}
		case shuffle.EventWatermark:
			if err := release(t.Buffer.Fire(ev.Watermark, emit)); err != nil {
				return err
			}
			if err := (Outputs{t.Out}).EmitWatermark(ctx, ev.Watermark); err != nil {
				return err
			}
		case shuffle.EventProcessingTime:
			if err := release(t.Buffer.AdvanceProcessingTime(ev.Watermark, emit)); err != nil {
				return err
			}
			if err := (Outputs{t.Out}).EmitProcessingTime(ctx, ev.Watermark); err != nil {
				return err
			}
		case shuffle.EventEndOfData:
			if err := release(t.Buffer.Fire(math.MaxInt64, emit)); err != nil {
				return err
			}
			if t.Buffer.Dropped > 0 {
				t.Logger.Warn("dropped data of expired or closed windows", "task", t.Name, "elements", t.Buffer.Dropped)
			}
			return Outputs{t.Out}.Close(ctx)
		}
	}
}
