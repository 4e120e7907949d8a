package worker

import (
	"context"
	"fmt"
	"math"
	"time"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/fnharness"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/state"
)

// stageTimers is an SDK task's side of its timers: the TimerSet and a reader per family
// that cuts the SDK's timer output into timers. A nil *stageTimers is a stage without
// timers; every method then does nothing.
type stageTimers struct {
	set     *TimerSet
	refs    []fnharness.TimerFamilyRef
	readers map[fnharness.TimerFamilyRef]*wire.ElementReader
}

func newStageTimers(families []TimerFamily, store state.Store, keyGroups int) *stageTimers {
	st := &stageTimers{set: NewTimerSet(families, store, keyGroups), readers: map[fnharness.TimerFamilyRef]*wire.ElementReader{}}
	st.refs = st.set.Families()
	for _, f := range families {
		st.readers[f.TimerFamilyRef] = wire.NewElementReader(f.Codec)
	}
	return st
}

// families lists the timer families every bundle of the stage closes and waits for: the
// Go SDK counts one is_last per transform with timers, and answers each family it was
// sent with an is_last of its own.
func (st *stageTimers) families() []fnharness.TimerFamilyRef {
	if st == nil {
		return nil
	}
	return st.refs
}

// apply records the timers of one chunk of the SDK's timer output.
func (st *stageTimers) apply(out fnharness.Output) error {
	ref := fnharness.TimerFamilyRef{TransformID: out.TransformID, Family: out.TimerFamily}
	if st == nil || st.readers[ref] == nil {
		return fmt.Errorf("the SDK sent timers for family %q of transform %q, which the stage does not declare", out.TimerFamily, out.TransformID)
	}
	r := st.readers[ref]
	fn := func(rec []byte) error { return st.set.Apply(ref, rec) }
	err := r.Feed(out.Data, fn)
	if err == nil && out.IsLast {
		err = r.End(fn)
	}
	if err != nil {
		return fmt.Errorf("timer family %q of transform %q: %w", out.TimerFamily, out.TransformID, err)
	}
	return nil
}

// idle reports whether no timer is pending.
func (st *stageTimers) idle() bool { return st == nil || st.set.Len() == 0 }

// hold is the earliest output timestamp of a pending timer.
func (st *stageTimers) hold() int64 {
	if st == nil {
		return math.MaxInt64
	}
	return st.set.Hold()
}

// fireEventTimers fires every event-time timer the input watermark has passed, in
// fire-time order, including those the firings set in turn.
func (t *SDKTask) fireEventTimers(ctx context.Context) error {
	return t.fireTimers(ctx, pipepb.TimeDomain_EVENT_TIME, func() int64 { return t.inputWM })
}

// processingTime is the stage's processing time now: the wall clock, or the virtual clock.
func (t *SDKTask) processingTime() int64 {
	if t.VirtualClock {
		return t.procTime
	}
	return time.Now().UnixMilli()
}

// advanceProcessingTime moves the virtual clock to pt: the bundle in flight finishes (its
// output goes before the new time), due timers fire, and the time goes downstream.
func (t *SDKTask) advanceProcessingTime(ctx context.Context, pt int64) error {
	if pt <= t.procTime {
		return nil
	}
	t.procTime = pt
	if t.Group != nil {
		if err := t.Group.AdvanceProcessingTime(pt, t.emitGroup(ctx)); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	if err := t.finish(ctx); err != nil {
		return err
	}
	if err := t.fireProcessingTimers(ctx); err != nil {
		return err
	}
	return t.outs.EmitProcessingTime(ctx, pt)
}

// onWallClock fires the processing-time triggers and timers the wall clock has reached.
func (t *SDKTask) onWallClock(ctx context.Context) error {
	if t.Group != nil {
		if err := t.Group.Fire(t.Group.Watermark(), t.emitGroup(ctx)); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	return t.fireProcessingTimers(ctx)
}

// nextWallClockWake is when the task must wake up for a processing-time timer or trigger
// by the wall clock, if ever.
func (t *SDKTask) nextWallClockWake() (time.Time, bool) {
	if t.VirtualClock {
		return time.Time{}, false
	}
	next := int64(math.MaxInt64)
	if t.timers != nil {
		next = t.timers.set.Next(pipepb.TimeDomain_PROCESSING_TIME)
	}
	if t.Group != nil {
		next = min(next, t.Group.NextProcessingTime())
	}
	if next == math.MaxInt64 {
		return time.Time{}, false
	}
	return time.UnixMilli(next), true
}

// fireProcessingTimers fires the processing-time timers that are due, then the event-time
// timers their firings set behind the watermark.
func (t *SDKTask) fireProcessingTimers(ctx context.Context) error {
	err := t.fireTimers(ctx, pipepb.TimeDomain_PROCESSING_TIME, t.processingTime)
	if err != nil {
		return err
	}
	return t.fireEventTimers(ctx)
}

// fireTimers runs bundles of the timers of domain due at now() until none is: a bundle in
// flight is finished first, so that the timers its elements set are known, and a firing
// may set timers that are due at once.
func (t *SDKTask) fireTimers(ctx context.Context, domain pipepb.TimeDomain_Enum, now func() int64) error {
	if t.timers == nil {
		return nil
	}
	for {
		due, err := t.timers.set.TakeDue(domain, now())
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		if len(due) == 0 {
			return nil
		}
		if err := t.finish(ctx); err != nil {
			return err
		}
		if err := t.startBundle(ctx); err != nil {
			return err
		}
		for _, ft := range due {
			if err := t.bundle.bundle.SendTimers(ft.Family.TransformID, ft.Family.Family, ft.Encoded); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
		}
		if err := t.finish(ctx); err != nil {
			return err
		}
	}
}
