package worker

import (
	"context"
	"math"
	"reflect"
	"time"

	"github.com/sluice-runner/sluice/shuffle"
)

// nextEvent returns the gate's next event, waiting for one; it fails only when ctx ends.
func nextEvent(ctx context.Context, g *shuffle.InputGate) (shuffle.Event, error) {
	for {
		if ev, ok := g.Poll(); ok {
			return ev, nil
		}
		if err := g.Err(); err != nil {
			return shuffle.Event{}, err
		}
		select {
		case <-g.Available():
		case <-ctx.Done():
			return shuffle.Event{}, ctx.Err()
		}
	}
}

// nextEventBy is nextEvent that also returns, with ok false, once the wall clock reaches
// wakeAt (Unix milliseconds; math.MaxInt64 for never).
func nextEventBy(ctx context.Context, g *shuffle.InputGate, wakeAt int64) (ev shuffle.Event, ok bool, err error) {
	if wakeAt == math.MaxInt64 {
		ev, err := nextEvent(ctx, g)
		return ev, err == nil, err
	}
	timer := time.NewTimer(time.Until(time.UnixMilli(wakeAt)))
	defer timer.Stop()
	for {
		if ev, ok := g.Poll(); ok {
			return ev, true, nil
		}
		if err := g.Err(); err != nil {
			return shuffle.Event{}, false, err
		}
		select {
		case <-g.Available():
		case <-timer.C:
			return shuffle.Event{}, false, nil
		case <-ctx.Done():
			return shuffle.Event{}, false, ctx.Err()
		}
	}
}

// waitAny blocks until one of chans is ready or ctx ends.
func waitAny(ctx context.Context, chans ...<-chan struct{}) error {
	cases := make([]reflect.SelectCase, 0, len(chans)+1)
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
	for _, c := range chans {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c)})
	}
	if i, _, _ := reflect.Select(cases); i == 0 {
		return ctx.Err()
	}
	return nil
}
