package worker

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"sort"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/shuffle"
	"github.com/sluice-runner/sluice/state"
)

// GroupStrategy is what GroupTask needs of the windowing strategy.
type GroupStrategy struct {
	// MergeSessions is set for session windows: windows of one key that overlap are merged
	// before they fire.
	MergeSessions bool
	OutputTime    pipepb.OutputTime_Enum
}

// GroupTask is one subtask of a GroupByKey: it groups the values of each (window, key) of
// its key groups and emits KV<key, iterable<value>> when the input watermark passes the
// end of the window. Values wait in the state store, not in the task.
type GroupTask struct {
	Name     string
	Input    *shuffle.InputGate
	InCodec  *wire.WindowedValueCodec
	Strategy GroupStrategy
	Out      *Output
	Store    state.Store
	Logger   *slog.Logger

	kv      *wire.KVCodec
	groups  map[string]*group // by store key
	wv      wire.WindowedValue
	scratch []byte
}

// group is the in-memory index entry of one (window, key) bag in the store.
type group struct {
	storeKey     []byte
	window       wire.Window
	key          []byte
	minTs, maxTs int64
}

// Run implements Task.
func (t *GroupTask) Run(ctx context.Context) error {
	kv, ok := t.InCodec.KV()
	if !ok {
		return fmt.Errorf("%s: GroupByKey input is not a KV", t.Name)
	}
	t.kv = kv
	t.groups = map[string]*group{}
	for {
		ev, err := nextEvent(ctx, t.Input)
		if err != nil {
			return err
		}
		switch ev.Kind {
		case shuffle.EventRecord:
			if err := t.add(ev.Record); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
		case shuffle.EventWatermark:
			if err := t.fire(ctx, ev.Watermark); err != nil {
				return err
			}
			if err := (Outputs{t.Out}).EmitWatermark(ctx, ev.Watermark); err != nil {
				return err
			}
		case shuffle.EventEndOfData:
			if err := t.fire(ctx, math.MaxInt64); err != nil {
				return err
			}
			return Outputs{t.Out}.Close(ctx)
		}
	}
}

func (t *GroupTask) add(rec []byte) error {
	if _, err := t.InCodec.DecodeInto(rec, &t.wv); err != nil {
		return err
	}
	key, value, err := t.kv.Split(t.wv.Element)
	if err != nil {
		return err
	}
	wc := t.InCodec.WindowCodec()
	for _, w := range t.wv.Windows {
		t.scratch = wc.Append(t.scratch[:0], w)
		sk := binary.AppendUvarint(make([]byte, 0, 2+len(t.scratch)+len(key)), uint64(len(t.scratch)))
		sk = append(sk, t.scratch...)
		sk = append(sk, key...)
		g := t.groups[string(sk)]
		if g == nil {
			g = &group{storeKey: sk, window: w, key: append([]byte(nil), key...), minTs: t.wv.Timestamp, maxTs: t.wv.Timestamp}
			t.groups[string(sk)] = g
		}
		g.minTs = min(g.minTs, t.wv.Timestamp)
		g.maxTs = max(g.maxTs, t.wv.Timestamp)
		if err := t.Store.AppendBag(sk, value); err != nil {
			return err
		}
	}
	return nil
}

// firing is one output group: the bags of one or more (window, key) groups under one window.
type firing struct {
	window  wire.Window
	key     []byte
	members []*group
}

// fire emits every group whose window ends at or before wm and drops its state.
func (t *GroupTask) fire(ctx context.Context, wm int64) error {
	var ready []firing
	if t.Strategy.MergeSessions {
		ready = t.mergedFirings(wm)
	} else {
		for _, g := range t.groups {
			if g.window.MaxTimestamp() < wm || wm == math.MaxInt64 {
				ready = append(ready, firing{window: g.window, key: g.key, members: []*group{g}})
			}
		}
	}
	sort.Slice(ready, func(i, j int) bool {
		return string(ready[i].members[0].storeKey) < string(ready[j].members[0].storeKey)
	})
	wc := t.Out.Codec.WindowCodec()
	pane := wire.PaneInfo{Timing: wire.PaneOnTime, IsFirst: true, IsLast: true}
	var rec []byte
	for _, f := range ready {
		count, minTs, maxTs := 0, int64(math.MaxInt64), int64(math.MinInt64)
		for _, g := range f.members {
			n, err := t.Store.BagSize(g.storeKey)
			if err != nil {
				return err
			}
			count += n
			minTs, maxTs = min(minTs, g.minTs), max(maxTs, g.maxTs)
		}
		rec = wire.AppendHeader(rec[:0], wc, t.outputTime(f.window, minTs, maxTs), []wire.Window{f.window}, pane)
		rec = append(rec, f.key...)
		rec = binary.BigEndian.AppendUint32(rec, uint32(count))
		for _, g := range f.members {
			err := t.Store.ReadBag(g.storeKey, func(v []byte) error {
				rec = append(rec, v...)
				return nil
			})
			if err != nil {
				return err
			}
			if err := t.Store.ClearBag(g.storeKey); err != nil {
				return err
			}
			delete(t.groups, string(g.storeKey))
		}
		if err := t.Out.Emit(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}

// mergedFirings merges the session windows of each key and returns the merged windows that
// end before wm. A window ending before the watermark cannot merge with data still to come:
// such data would start at or after the watermark.
func (t *GroupTask) mergedFirings(wm int64) []firing {
	byKey := map[string][]*group{}
	for _, g := range t.groups {
		byKey[string(g.key)] = append(byKey[string(g.key)], g)
	}
	var out []firing
	for _, gs := range byKey {
		sort.Slice(gs, func(i, j int) bool { return intervalOf(gs[i].window).Start < intervalOf(gs[j].window).Start })
		var cur *firing
		flush := func() {
			if cur != nil && (cur.window.MaxTimestamp() < wm || wm == math.MaxInt64) {
				out = append(out, *cur)
			}
		}
		for _, g := range gs {
			w := intervalOf(g.window)
			if cur != nil && w.Start < intervalOf(cur.window).End {
				cw := intervalOf(cur.window)
				cur.window = wire.IntervalWindow{Start: cw.Start, End: max(cw.End, w.End)}
				cur.members = append(cur.members, g)
				continue
			}
			flush()
			cur = &firing{window: w, key: g.key, members: []*group{g}}
		}
		flush()
	}
	return out
}

func intervalOf(w wire.Window) wire.IntervalWindow {
	if iw, ok := w.(wire.IntervalWindow); ok {
		return iw
	}
	return wire.IntervalWindow{Start: wire.MinTimestamp, End: w.MaxTimestamp() + 1}
}

func (t *GroupTask) outputTime(w wire.Window, minTs, maxTs int64) int64 {
	switch t.Strategy.OutputTime {
	case pipepb.OutputTime_EARLIEST_IN_PANE:
		return minTs
	case pipepb.OutputTime_LATEST_IN_PANE:
		return maxTs
	default:
		return w.MaxTimestamp()
	}
}
