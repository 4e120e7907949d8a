package worker

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"sort"

	"github.com/sluice-runner/sluice/runner/window"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/shuffle"
	"github.com/sluice-runner/sluice/state"
)

// GroupBuffer is the GroupByKey operator: it buffers the values of each (window, key)
// and, when the watermark passes a window, emits KV<key, iterable<value>>. A group's
// values are kept in memory, concatenated as they arrive (one allocation per group, no
// pointer per value, so a million small groups cost the garbage collector little); with
// Large set, values past the first InlineBytes of a group go to the state store instead
// and the element carries a state token for them. A GroupBuffer belongs to one task
// goroutine; only its RunnerState side is shared.
type GroupBuffer struct {
	InCodec  *wire.WindowedValueCodec
	OutCodec *wire.WindowedValueCodec
	// Strategy is the input's windowing: merging (sessions) and output time.
	Strategy window.Strategy
	Store    state.Store
	// Large, when set, lets a group's values past the first InlineBytes stay in the store:
	// the element then ends in a state token the SDK reads through Large. Only a
	// consumer in the same task can resolve the token.
	Large *RunnerState

	kv      *wire.KVCodec
	groups  map[string]*group // by storeKey
	wv      wire.WindowedValue
	scratch []byte
	winBuf  []byte
	rec     []byte
	// fired are store keys of groups emitted with values in the store, not yet cleared
	// (see Release).
	fired [][]byte
	// wm is the input watermark of the last Fire; data of a window it has expired
	// (past its end plus the allowed lateness) is dropped and counted in Dropped.
	wm      int64
	Dropped int64
	// panes counts the panes emitted per (window, key) store key until the window expires,
	// so that a late firing is numbered after the on-time one.
	panes map[string]firedPanes
}

type firedPanes struct {
	window  wire.Window
	count   int64 // panes so far
	nonSpec int64 // panes so far that were not early
	onTime  bool  // the on-time pane has been emitted
}

// InlineBytes is how much of a group travels inside its element when the rest may stay in
// runner state.
const InlineBytes = 1 << 20

// group is one (window, key): its values in memory and the count of those in the store.
type group struct {
	// storeKey is uvarint(len(window)) window key: unique per (window, key) and the key of
	// the group's bag in the store.
	storeKey     string
	keyAt        int // the key is storeKey[keyAt:]
	window       wire.Window
	minTs, maxTs int64
	values       []byte // encoded values, concatenated
	count        int    // values in memory
	stored       int    // values in the store
}

func (gr *group) key() string { return gr.storeKey[gr.keyAt:] }

func (g *GroupBuffer) init() error {
	if g.groups != nil {
		return nil
	}
	kv, ok := g.InCodec.KV()
	if !ok {
		return fmt.Errorf("GroupByKey input is not a KV")
	}
	g.kv = kv
	g.groups = map[string]*group{}
	g.panes = map[string]firedPanes{}
	g.wm = math.MinInt64
	return nil
}

// Add buffers one encoded windowed KV.
func (g *GroupBuffer) Add(rec []byte) error {
	if err := g.init(); err != nil {
		return err
	}
	if _, err := g.InCodec.DecodeInto(rec, &g.wv); err != nil {
		return err
	}
	key, value, err := g.kv.Split(g.wv.Element)
	if err != nil {
		return err
	}
	wc := g.InCodec.WindowCodec()
	for _, w := range g.wv.Windows {
		if window.Expired(g.Strategy, w, g.wm) {
			g.Dropped++
			continue
		}
		g.winBuf = wc.Append(g.winBuf[:0], w)
		sk := binary.AppendUvarint(g.scratch[:0], uint64(len(g.winBuf)))
		sk = append(sk, g.winBuf...)
		keyAt := len(sk)
		sk = append(sk, key...)
		g.scratch = sk
		gr := g.groups[string(sk)]
		if gr == nil {
			gr = &group{storeKey: string(sk), keyAt: keyAt, window: w, minTs: g.wv.Timestamp, maxTs: g.wv.Timestamp}
			g.groups[gr.storeKey] = gr
		}
		gr.minTs = min(gr.minTs, g.wv.Timestamp)
		gr.maxTs = max(gr.maxTs, g.wv.Timestamp)
		if g.Large != nil && gr.count > 0 && len(gr.values)+len(value) > InlineBytes {
			if err := g.Store.AppendBag([]byte(gr.storeKey), value); err != nil {
				return err
			}
			gr.stored++
			continue
		}
		gr.values = append(gr.values, value...)
		gr.count++
	}
	return nil
}

// FiresPerElement reports whether the trigger is Always: every element is a pane of its
// own, so the caller fires (at Watermark) after each Add.
func (g *GroupBuffer) FiresPerElement() bool { return g.Strategy.Trigger.GetAlways() != nil }

// Watermark is the input watermark of the last Fire.
func (g *GroupBuffer) Watermark() int64 {
	if g.groups == nil {
		return math.MinInt64
	}
	return g.wm
}

// firing is one output group: one or more (window, key) groups under one window.
type firing struct {
	window  wire.Window
	members []*group
}

// Fire emits every group whose window ends before wm (all of them for math.MaxInt64), in
// no particular order: Beam promises none. Values in the store stay there until Release,
// so that the SDK can still read large groups while the bundle that carries them runs.
func (g *GroupBuffer) Fire(wm int64, emit func(rec []byte) error) error {
	if err := g.init(); err != nil {
		return err
	}
	if wm > g.wm {
		g.wm = wm
	}
	if g.Strategy.Merging {
		for _, f := range g.mergedFirings(wm) {
			if err := g.emit(f, emit); err != nil {
				return err
			}
		}
	} else {
		always := g.FiresPerElement()
		for _, gr := range g.groups {
			if always || gr.window.MaxTimestamp() < wm || wm == math.MaxInt64 {
				if err := g.emit(firing{window: gr.window, members: []*group{gr}}, emit); err != nil {
					return err
				}
			}
		}
	}
	for k, p := range g.panes {
		if window.Expired(g.Strategy, p.window, wm) {
			delete(g.panes, k)
		}
	}
	return nil
}

// pane is the pane info of the next firing of f at watermark g.wm. A firing before the
// watermark passes the end of the window (trigger Always) is early; the first one after is
// on time, later ones (data that came late but within the allowed lateness) are late; the
// one at which the window expires is the last.
func (g *GroupBuffer) pane(f firing) wire.PaneInfo {
	k := f.members[0].storeKey
	p := g.panes[k]
	pane := wire.PaneInfo{IsFirst: p.count == 0, Index: p.count, NonSpeculativeIndex: -1}
	switch {
	case g.wm <= f.window.MaxTimestamp():
		pane.Timing = wire.PaneEarly
	case !p.onTime:
		pane.Timing, p.onTime = wire.PaneOnTime, true
	default:
		pane.Timing = wire.PaneLate
	}
	if pane.Timing != wire.PaneEarly {
		pane.NonSpeculativeIndex = p.nonSpec
		p.nonSpec++
	}
	p.window, p.count = f.window, p.count+1
	pane.IsLast = window.Expired(g.Strategy, f.window, g.wm)
	if !pane.IsLast {
		g.panes[k] = p
	}
	return pane
}

// emit encodes f, forgets its groups (deleting from the map being ranged over is allowed)
// and passes the element on.
func (g *GroupBuffer) emit(f firing, emit func(rec []byte) error) error {
	rec, err := g.encode(f)
	if err != nil {
		return err
	}
	for _, m := range f.members {
		delete(g.groups, m.storeKey)
		if m.stored > 0 {
			g.fired = append(g.fired, []byte(m.storeKey))
		}
	}
	return emit(rec)
}

// encode builds the output element of f: header, key, then the values, the ones in the
// store behind a state token.
func (g *GroupBuffer) encode(f firing) ([]byte, error) {
	count, stored, minTs, maxTs := 0, 0, int64(math.MaxInt64), int64(math.MinInt64)
	for _, m := range f.members {
		count += m.count
		stored += m.stored
		minTs, maxTs = min(minTs, m.minTs), max(maxTs, m.maxTs)
	}
	pane := g.pane(f)
	ts := window.OutputTimestamp(g.Strategy, f.window, minTs, maxTs)
	rec := wire.AppendHeader(g.rec[:0], g.OutCodec.WindowCodec(), ts, []wire.Window{f.window}, pane)
	rec = append(rec, f.members[0].key()...)
	if g.Large == nil {
		rec = binary.BigEndian.AppendUint32(rec, uint32(count))
		for _, m := range f.members {
			rec = append(rec, m.values...)
		}
		g.rec = rec
		return rec, nil
	}
	// Chunked form: one block of the values in memory, then the end or a state token.
	rec = wire.AppendIterableStart(rec)
	rec = wire.AppendVarInt(rec, int64(count)) // > 0: a group's first value is in memory
	for _, m := range f.members {
		rec = append(rec, m.values...)
	}
	if stored == 0 {
		rec = wire.AppendIterableEnd(rec)
	} else {
		var keys [][]byte
		for _, m := range f.members {
			if m.stored > 0 {
				keys = append(keys, []byte(m.storeKey))
			}
		}
		rec = wire.AppendIterableStateToken(rec, g.Large.park(g.Store, keys, 0))
	}
	g.rec = rec
	return rec, nil
}

// Release drops the stored values of every group fired so far. Call it when no bundle
// that may read them is running.
func (g *GroupBuffer) Release() error {
	for _, k := range g.fired {
		if err := g.Store.ClearBag(k); err != nil {
			return err
		}
	}
	g.fired = g.fired[:0]
	if g.Large != nil {
		g.Large.reset()
	}
	return nil
}

// mergedFirings merges the session windows of each key and returns the merged windows that
// end before wm. A window ending before the watermark cannot merge with data still to come:
// such data would start at or after the watermark.
func (g *GroupBuffer) mergedFirings(wm int64) []firing {
	byKey := map[string][]*group{}
	for _, gr := range g.groups {
		byKey[gr.key()] = append(byKey[gr.key()], gr)
	}
	var out []firing
	for _, gs := range byKey {
		// Members in time order, so a merged group's values are too.
		sort.Slice(gs, func(i, j int) bool {
			a, b := intervalOf(gs[i].window), intervalOf(gs[j].window)
			if a.Start != b.Start {
				return a.Start < b.Start
			}
			return gs[i].storeKey < gs[j].storeKey
		})
		ws := make([]wire.IntervalWindow, len(gs))
		for i, gr := range gs {
			ws[i] = intervalOf(gr.window)
		}
		merged, assign := window.MergeSessions(ws)
		fs := make([]firing, len(merged))
		for i, w := range merged {
			fs[i] = firing{window: w}
		}
		for i, gr := range gs {
			fs[assign[i]].members = append(fs[assign[i]].members, gr)
		}
		for _, f := range fs {
			if f.window.MaxTimestamp() < wm || wm == math.MaxInt64 {
				out = append(out, f)
			}
		}
	}
	return out
}

func intervalOf(w wire.Window) wire.IntervalWindow {
	if iw, ok := w.(wire.IntervalWindow); ok {
		return iw
	}
	return wire.IntervalWindow{Start: wire.MinTimestamp, End: w.MaxTimestamp() + 1}
}

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
	emit := func(rec []byte) error { return t.Out.Emit(ctx, rec) }
	// fire emits the groups ready at wm; no bundle reads the store here, so their
	// state goes at once.
	fire := func(wm int64) error {
		if err := t.Buffer.Fire(wm, emit); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		return t.Buffer.Release()
	}
	for {
		ev, err := nextEvent(ctx, t.Input)
		if err != nil {
			return err
		}
		switch ev.Kind {
		case shuffle.EventRecord:
			if err := t.Buffer.Add(ev.Record); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			if t.Buffer.FiresPerElement() {
				if err := fire(t.Buffer.Watermark()); err != nil {
					return err
				}
			}
		case shuffle.EventWatermark:
			if err := fire(ev.Watermark); err != nil {
				return err
			}
			if err := (Outputs{t.Out}).EmitWatermark(ctx, ev.Watermark); err != nil {
				return err
			}
		case shuffle.EventProcessingTime:
			if err := (Outputs{t.Out}).EmitProcessingTime(ctx, ev.Watermark); err != nil {
				return err
			}
		case shuffle.EventEndOfData:
			if err := fire(math.MaxInt64); err != nil {
				return err
			}
			if t.Buffer.Dropped > 0 {
				t.Logger.Warn("dropped data that came after its window expired", "task", t.Name, "elements", t.Buffer.Dropped)
			}
			return Outputs{t.Out}.Close(ctx)
		}
	}
}
