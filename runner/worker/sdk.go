package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sluice-runner/sluice/fnharness"
	"github.com/sluice-runner/sluice/runner/metrics"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/shuffle"
	"github.com/sluice-runner/sluice/state"
)

// Bundle limits: a bundle ends when it reaches either, or when the input has been idle for
// bundleLinger (so a slow trickle still makes progress downstream).
const (
	defaultMaxBundleElements = 100_000
	defaultMaxBundleBytes    = 64 << 20
	bundleLinger             = 5 * time.Millisecond
)

// SDKTask runs one subtask of a fused SDK stage: records of its input go to an SDK harness
// in bundles, and what the harness emits on each sink goes to that sink's Output.
type SDKTask struct {
	Name         string
	Worker       *fnharness.Worker
	DescriptorID string
	SourceID     string
	Input        *shuffle.InputGate
	SideInputs   []*SideInputGate
	// Outputs maps a descriptor sink transform id to the output it feeds.
	Outputs map[string]*Output
	Store   state.Store
	Metrics *metrics.Aggregator
	Logger  *slog.Logger

	sides   *sideInputs
	readers map[string]*wire.ElementReader
}

// Run implements Task.
func (t *SDKTask) Run(ctx context.Context) error {
	t.sides = &sideInputs{gates: t.SideInputs, store: t.Store}
	t.readers = map[string]*wire.ElementReader{}
	for sink, o := range t.Outputs {
		t.readers[sink] = wire.NewElementReader(o.Codec)
	}
	pending, err := t.awaitSideInputs(ctx)
	if err != nil {
		return err
	}
	return t.process(ctx, pending)
}

// bufferedInput is main input that arrived while side inputs were not yet ready.
type bufferedInput struct {
	count int
	// final is the last watermark seen, or EndOfData.
	final *shuffle.Event
}

var mainBufferKey = []byte("\xffmain")

// awaitSideInputs reads every side input to its end. Main input that arrives meanwhile is
// kept in the state store: blocking it instead could deadlock a producer that feeds both.
func (t *SDKTask) awaitSideInputs(ctx context.Context) (*bufferedInput, error) {
	buf := &bufferedInput{}
	for {
		open := 0
		progress := false
		for i, g := range t.SideInputs {
			if g.Gate.Done() {
				continue
			}
			open++
			ev, ok := g.Gate.Poll()
			if !ok {
				continue
			}
			progress = true
			if ev.Kind == shuffle.EventRecord {
				if err := t.sides.add(i, ev.Record); err != nil {
					return nil, fmt.Errorf("%s: %w", t.Name, err)
				}
			}
		}
		if open == 0 {
			return buf, nil
		}
		if buf.final == nil || buf.final.Kind != shuffle.EventEndOfData {
			if ev, ok := t.Input.Poll(); ok {
				progress = true
				switch ev.Kind {
				case shuffle.EventRecord:
					if err := t.Store.AppendBag(mainBufferKey, ev.Record); err != nil {
						return nil, err
					}
					buf.count++
				default:
					e := ev
					buf.final = &e
				}
			}
		}
		if progress {
			continue
		}
		chans := []<-chan struct{}{t.Input.Available()}
		for _, g := range t.SideInputs {
			if !g.Gate.Done() {
				chans = append(chans, g.Gate.Available())
			}
		}
		if err := waitAny(ctx, chans...); err != nil {
			return nil, err
		}
	}
}

// process runs the main input through bundles: first what was buffered, then the gate.
func (t *SDKTask) process(ctx context.Context, buffered *bufferedInput) error {
	var b *activeBundle
	if buffered.count > 0 {
		var err error
		if b, err = t.startBundle(ctx); err != nil {
			return err
		}
		err = t.Store.ReadBag(mainBufferKey, func(rec []byte) error { return b.send(ctx, rec) })
		if err != nil {
			return err
		}
		if err := t.Store.ClearBag(mainBufferKey); err != nil {
			return err
		}
	}
	if buffered.final != nil {
		if err := t.finish(ctx, b); err != nil {
			return err
		}
		b = nil
		if done, err := t.control(ctx, *buffered.final); done || err != nil {
			return err
		}
	}
	linger := time.NewTimer(time.Hour)
	defer linger.Stop()
	for {
		ev, ok := t.Input.Poll()
		if !ok {
			if err := t.Input.Err(); err != nil {
				return err
			}
			if b == nil {
				if err := waitAny(ctx, t.Input.Available()); err != nil {
					return err
				}
				continue
			}
			linger.Reset(bundleLinger)
			select {
			case <-t.Input.Available():
				continue
			case <-b.bundle.Available():
				if err := t.drain(ctx, b); err != nil {
					return err
				}
				continue
			case <-linger.C:
				if err := t.finish(ctx, b); err != nil {
					return err
				}
				b = nil
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if ev.Kind != shuffle.EventRecord {
			if err := t.finish(ctx, b); err != nil {
				return err
			}
			b = nil
			if done, err := t.control(ctx, ev); done || err != nil {
				return err
			}
			continue
		}
		if b == nil {
			var err error
			if b, err = t.startBundle(ctx); err != nil {
				return err
			}
		}
		if err := b.send(ctx, ev.Record); err != nil {
			return err
		}
		if b.elements >= defaultMaxBundleElements || b.bytes >= defaultMaxBundleBytes {
			if err := t.finish(ctx, b); err != nil {
				return err
			}
			b = nil
		}
	}
}

// control handles a watermark or end of data after every bundle before it has finished.
func (t *SDKTask) control(ctx context.Context, ev shuffle.Event) (done bool, err error) {
	outs := make(Outputs, 0, len(t.Outputs))
	for _, o := range t.Outputs {
		outs = append(outs, o)
	}
	if ev.Kind == shuffle.EventEndOfData {
		return true, outs.Close(ctx)
	}
	return false, outs.EmitWatermark(ctx, ev.Watermark)
}

// activeBundle is the bundle in flight.
type activeBundle struct {
	task     *SDKTask
	bundle   *fnharness.Bundle
	elements int
	bytes    int
}

func (t *SDKTask) startBundle(ctx context.Context) (*activeBundle, error) {
	sinks := make([]string, 0, len(t.Outputs))
	for sink := range t.Outputs {
		sinks = append(sinks, sink)
	}
	b, err := t.Worker.StartBundle(ctx, t.DescriptorID, t.sides, fnharness.ExpectOutputs{Transforms: sinks})
	if err != nil {
		return nil, fmt.Errorf("%s: starting a bundle: %w", t.Name, err)
	}
	return &activeBundle{task: t, bundle: b}, nil
}

func (b *activeBundle) send(ctx context.Context, rec []byte) error {
	if err := b.bundle.Send(b.task.SourceID, rec); err != nil {
		return fmt.Errorf("%s: %w", b.task.Name, err)
	}
	b.elements++
	b.bytes += len(rec)
	// Route what the SDK already produced so outputs do not pile up during a long bundle.
	if b.elements%256 == 0 {
		select {
		case <-b.bundle.Available():
			return b.task.drain(ctx, b)
		default:
		}
	}
	return nil
}

// drain routes the bundle's queued outputs to their edges.
func (t *SDKTask) drain(ctx context.Context, b *activeBundle) error {
	for _, out := range b.bundle.Outputs() {
		if out.TimerFamily != "" {
			return fmt.Errorf("%s: the SDK sent timers for %q, but the stage declares none", t.Name, out.TimerFamily)
		}
		o, r := t.Outputs[out.TransformID], t.readers[out.TransformID]
		if o == nil {
			return fmt.Errorf("%s: the SDK sent data for unknown sink %q", t.Name, out.TransformID)
		}
		err := r.Feed(out.Data, func(rec []byte) error { return o.Emit(ctx, rec) })
		if err != nil {
			return fmt.Errorf("%s: output %q: %w", t.Name, o.PCollection, err)
		}
		if out.IsLast && r.Pending() > 0 {
			return fmt.Errorf("%s: output %q ended inside an element (%d bytes left over)", t.Name, o.PCollection, r.Pending())
		}
	}
	return nil
}

// finish closes the bundle's input, routes all its output and commits it: metrics, then
// bundle finalization when the SDK asks for it.
func (t *SDKTask) finish(ctx context.Context, b *activeBundle) error {
	if b == nil {
		return nil
	}
	if err := b.bundle.CloseInput([]string{t.SourceID}, nil); err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	for {
		select {
		case <-b.bundle.Available():
			if err := t.drain(ctx, b); err != nil {
				return err
			}
			continue
		case <-b.bundle.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
		break
	}
	if err := t.drain(ctx, b); err != nil {
		return err
	}
	resp, err := b.bundle.Result()
	if err != nil {
		return fmt.Errorf("%s: bundle %s failed: %w", t.Name, b.bundle.InstructionID(), err)
	}
	if len(resp.GetResidualRoots()) > 0 {
		return fmt.Errorf("%s: bundle %s returned %d residuals, which Sluice does not resume yet", t.Name, b.bundle.InstructionID(), len(resp.GetResidualRoots()))
	}
	if t.Metrics != nil {
		if err := t.Metrics.Add(resp.GetMonitoringInfos()); err != nil {
			t.Logger.Warn("dropping malformed bundle metrics", "task", t.Name, "err", err)
		}
	}
	if resp.GetRequiresFinalization() {
		if err := t.Worker.Finalize(ctx, b.bundle.InstructionID()); err != nil {
			return fmt.Errorf("%s: finalizing bundle %s: %w", t.Name, b.bundle.InstructionID(), err)
		}
	}
	return nil
}
