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

// GroupBuffer is the GroupByKey operator: it keeps the values of each (window, key) in a
// state store and, when the watermark passes a window, emits KV<key, iterable<value>>.
// A GroupBuffer belongs to one task goroutine; only its RunnerState side is shared.
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
	groups  map[string]*group // by store key
	wv      wire.WindowedValue
	scratch []byte
	rec     []byte
	// fired are store keys emitted but not yet cleared (see Release).
	fired [][]byte
}

// InlineBytes is how much of a group travels inside its element when the rest may stay in
// runner state.
const InlineBytes = 1 << 20

// group is the in-memory index entry of one (window, key) bag in the store.
type group struct {
	storeKey     []byte
	window       wire.Window
	key          []byte
	minTs, maxTs int64
}

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
		g.scratch = wc.Append(g.scratch[:0], w)
		sk := binary.AppendUvarint(make([]byte, 0, 2+len(g.scratch)+len(key)), uint64(len(g.scratch)))
		sk = append(sk, g.scratch...)
		sk = append(sk, key...)
		gr := g.groups[string(sk)]
		if gr == nil {
			gr = &group{storeKey: sk, window: w, key: append([]byte(nil), key...), minTs: g.wv.Timestamp, maxTs: g.wv.Timestamp}
			g.groups[string(sk)] = gr
		}
		gr.minTs = min(gr.minTs, g.wv.Timestamp)
		gr.maxTs = max(gr.maxTs, g.wv.Timestamp)
		if err := g.Store.AppendBag(sk, value); err != nil {
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

// Fire emits every group whose window ends before wm (all of them for math.MaxInt64).
// Their state stays in the store until Release, so that the SDK can still read large
// groups while the bundle that carries them runs.
func (g *GroupBuffer) Fire(wm int64, emit func(rec []byte) error) error {
	if err := g.init(); err != nil {
		return err
	}
	var ready []firing
	if g.Strategy.Merging {
		ready = g.mergedFirings(wm)
	} else {
		for _, gr := range g.groups {
			if gr.window.MaxTimestamp() < wm || wm == math.MaxInt64 {
				ready = append(ready, firing{window: gr.window, key: gr.key, members: []*group{gr}})
			}
		}
	}
	sort.Slice(ready, func(i, j int) bool {
		return string(ready[i].members[0].storeKey) < string(ready[j].members[0].storeKey)
	})
	for _, f := range ready {
		rec, err := g.encode(f)
		if err != nil {
			return err
		}
		for _, m := range f.members {
			delete(g.groups, string(m.storeKey))
			g.fired = append(g.fired, m.storeKey)
		}
		if err := emit(rec); err != nil {
			return err
		}
	}
	return nil
}

// encode builds the output element of f: header, key, then the values, inline up to
// InlineBytes when the rest can stay in runner state.
func (g *GroupBuffer) encode(f firing) ([]byte, error) {
	count, minTs, maxTs := 0, int64(math.MaxInt64), int64(math.MinInt64)
	for _, m := range f.members {
		n, err := g.Store.BagSize(m.storeKey)
		if err != nil {
			return nil, err
		}
		count += n
		minTs, maxTs = min(minTs, m.minTs), max(maxTs, m.maxTs)
	}
	pane := wire.PaneInfo{Timing: wire.PaneOnTime, IsFirst: true, IsLast: true}
	ts := window.OutputTimestamp(g.Strategy, f.window, minTs, maxTs)
	rec := wire.AppendHeader(g.rec[:0], g.OutCodec.WindowCodec(), ts, []wire.Window{f.window}, pane)
	rec = append(rec, f.key...)
	if g.Large == nil {
		rec = binary.BigEndian.AppendUint32(rec, uint32(count))
		for _, m := range f.members {
			if err := g.Store.ReadBag(m.storeKey, func(v []byte) error { rec = append(rec, v...); return nil }); err != nil {
				return nil, err
			}
		}
		g.rec = rec
		return rec, nil
	}
	// Chunked form: one block of inline values, then either the end or a state token.
	rec = wire.AppendIterableStart(rec)
	blockAt := len(rec)
	rec = append(rec, make([]byte, binary.MaxVarintLen64)...) // room for the block count
	valuesAt := len(rec)
	inline, inlineBytes := 0, 0
	stop := fmt.Errorf("inline part full")
	for _, m := range f.members {
		err := g.Store.ReadBag(m.storeKey, func(v []byte) error {
			if inline > 0 && inlineBytes+len(v) > InlineBytes {
				return stop
			}
			rec = append(rec, v...)
			inline++
			inlineBytes += len(v)
			return nil
		})
		if err != nil && err != stop {
			return nil, err
		}
		if err == stop {
			break
		}
	}
	// Write the block count in front of the values (shifting them to close the gap).
	hdr := wire.AppendVarInt(nil, int64(inline))
	if inline == 0 {
		hdr = nil
	}
	n := copy(rec[blockAt:], hdr)
	rec = append(rec[:blockAt+n], rec[valuesAt:]...)
	if inline == count {
		rec = wire.AppendIterableEnd(rec)
	} else {
		keys := make([][]byte, len(f.members))
		for i, m := range f.members {
			keys[i] = m.storeKey
		}
		rec = wire.AppendIterableStateToken(rec, g.Large.park(g.Store, keys, inline))
	}
	g.rec = rec
	return rec, nil
}

// Release drops the state of every group fired so far. Call it when no bundle that may
// read them is running.
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
		byKey[string(gr.key)] = append(byKey[string(gr.key)], gr)
	}
	var out []firing
	for _, gs := range byKey {
		// Members in time order, so a merged group's values are too.
		sort.Slice(gs, func(i, j int) bool {
			a, b := intervalOf(gs[i].window), intervalOf(gs[j].window)
			if a.Start != b.Start {
				return a.Start < b.Start
			}
			return string(gs[i].storeKey) < string(gs[j].storeKey)
		})
		ws := make([]wire.IntervalWindow, len(gs))
		for i, gr := range gs {
			ws[i] = intervalOf(gr.window)
		}
		merged, assign := window.MergeSessions(ws)
		fs := make([]firing, len(merged))
		for i, w := range merged {
			fs[i] = firing{window: w, key: gs[0].key}
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
		case shuffle.EventWatermark:
			if err := t.Buffer.Fire(ev.Watermark, emit); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			if err := t.Buffer.Release(); err != nil {
				return err
			}
			if err := (Outputs{t.Out}).EmitWatermark(ctx, ev.Watermark); err != nil {
				return err
			}
		case shuffle.EventEndOfData:
			if err := t.Buffer.Fire(math.MaxInt64, emit); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			if err := t.Buffer.Release(); err != nil {
				return err
			}
			return Outputs{t.Out}.Close(ctx)
		}
	}
}
