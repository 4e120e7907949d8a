package worker

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/runner/trigger"
	"github.com/sluice-runner/sluice/runner/window"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/state"
)

// GroupBuffer is the GroupByKey operator: it buffers the values of each (window, key)
// and emits KV<key, iterable<value>> panes when the window's trigger (runner/trigger)
// fires, and a last pane when the window expires (its end plus the allowed lateness) with
// values not yet emitted. In discarding mode a pane holds the values since the previous
// one; in accumulating mode all of them. Data for an expired window, or a window whose
// trigger has finished, is dropped and counted. Session windows merge as group_merge.go
// says. A group's values are kept in memory, concatenated as they arrive (see
// groupValues); with Large set, values past the first InlineBytes of a group go to the
// state store instead, in blocks (see spill), and the element carries a state token for
// them. A GroupBuffer belongs to one task
// goroutine; only its RunnerState side is shared.
type GroupBuffer struct {
	InCodec  *wire.WindowedValueCodec
	OutCodec *wire.WindowedValueCodec
	// Strategy is the input's windowing: merging (sessions) and output time.
	Strategy window.Strategy
	Store    state.Store
	// Large, when set, lets a group's values past the first InlineLimit bytes stay in the
	// store: the element then ends in a state token the SDK reads through Large. Only a
	// consumer in the same task can resolve the token. Accumulating panes keep their
	// values in memory.
	Large *RunnerState
	// InlineLimit is how many bytes of a group's values travel in its element when Large
	// is set (0: InlineBytes).
	InlineLimit int
	// VirtualClock says processing time is what AdvanceProcessingTime last said (a
	// TestStream's clock) instead of the wall clock.
	VirtualClock bool
	// Pieces says the consumer takes an element in pieces (an SDK task's data stream
	// carries bytes, not elements): a group whose values in memory span blocks is then
	// emitted as its header, key and count followed by the blocks as they are, instead of
	// being copied into one buffer of its whole size first.
	Pieces bool
	// ParkBlocks, with Large and Pieces, parks such a group's blocks in Large as they are,
	// behind the element's state token, instead of sending them: for a consumer that
	// reads a group's values as it iterates them, asking for the next page while it uses
	// one (a generated chain, see codegen/rt.Values), so that the transfer overlaps its
	// work instead of preceding it.
	ParkBlocks bool

	trig           *trigger.Machine
	usesPT         bool // the trigger depends on processing time
	defaultTrigger bool
	pt             int64
	// ready are groups whose trigger fired on an element, emitted by the next Fire.
	ready   []*group
	trigBuf []byte
	// sessions are the groups of each key, by key, when windows merge eagerly (see
	// group_merge.go).
	sessions map[string][]*group

	kv     *wire.KVCodec
	groups map[string]*group // by storeKey
	// last is the group the previous element went to, until the next firing (which may
	// drop groups): a run of one key in one window (a hot key, sorted input) skips the
	// store key and the map.
	last    *group
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

// InlineBytes is how much of a group travels inside its element, by default, when the rest
// may stay in runner state.
const InlineBytes = 1 << 20

// group is one (window, key): its values in memory and the count of those in the store.
type group struct {
	// storeKey is uvarint(len(window)) window key: unique per (window, key) and the key of
	// the group's bag in the store.
	storeKey     string
	keyAt        int // the key is storeKey[keyAt:]
	window       wire.Window
	minTs, maxTs int64
	values       groupValues
	count        int   // values in memory
	spilled      spill // values for the store
	// gen numbers the group's bags in the store: a fired bag is cleared only after the
	// bundle reading it, so values after a pane go to the next one.
	gen   uint64
	trig  *trigger.State
	ready bool // in GroupBuffer.ready
	// closed: the trigger has finished; the group only remembers that until it expires.
	closed bool
	// fresh: values arrived since the last pane (in accumulating mode the buffer keeps
	// the ones already emitted, so it is not the same as having values).
	fresh bool
	// trigSaved: the trigger state is in the store (see group_triggerstate.go).
	trigSaved bool
}

func (gr *group) key() string { return gr.storeKey[gr.keyAt:] }

func (gr *group) empty() bool { return gr.count == 0 && gr.spilled.count == 0 }

func (g *GroupBuffer) init() error {
	if g.groups != nil {
		return nil
	}
	kv, ok := g.InCodec.KV()
	if !ok {
		return fmt.Errorf("GroupByKey input is not a KV")
	}
	t := g.Strategy.Trigger
	if t.GetTrigger() == nil { // unset is Beam's default
		t = &pipepb.Trigger{Trigger: &pipepb.Trigger_Default_{Default: &pipepb.Trigger_Default{}}}
	}
	m, err := trigger.New(t)
	if err != nil {
		return fmt.Errorf("GroupByKey: %w", err)
	}
	g.kv, g.trig, g.usesPT = kv, m, usesProcessingTime(g.Strategy.Trigger)
	g.defaultTrigger = isDefaultTrigger(g.Strategy.Trigger)
	g.groups = map[string]*group{}
	g.panes = map[string]firedPanes{}
	g.wm, g.pt = math.MinInt64, math.MinInt64
	return nil
}

// usesProcessingTime says whether t has a part that fires by processing time.
func usesProcessingTime(t *pipepb.Trigger) bool {
	switch t := t.GetTrigger().(type) {
	case *pipepb.Trigger_AfterProcessingTime_, *pipepb.Trigger_AfterSynchronizedProcessingTime_:
		return true
	case *pipepb.Trigger_AfterAll_:
		return slices.ContainsFunc(t.AfterAll.GetSubtriggers(), usesProcessingTime)
	case *pipepb.Trigger_AfterAny_:
		return slices.ContainsFunc(t.AfterAny.GetSubtriggers(), usesProcessingTime)
	case *pipepb.Trigger_AfterEach_:
		return slices.ContainsFunc(t.AfterEach.GetSubtriggers(), usesProcessingTime)
	case *pipepb.Trigger_AfterEndOfWindow_:
		return usesProcessingTime(t.AfterEndOfWindow.GetEarlyFirings()) || usesProcessingTime(t.AfterEndOfWindow.GetLateFirings())
	case *pipepb.Trigger_OrFinally_:
		return usesProcessingTime(t.OrFinally.GetMain()) || usesProcessingTime(t.OrFinally.GetFinally())
	case *pipepb.Trigger_Repeat_:
		return usesProcessingTime(t.Repeat.GetSubtrigger())
	default:
		return false
	}
}

// now is the trigger's view of time. It reads the wall clock only for a trigger that
// depends on processing time: it is asked for every element.
func (g *GroupBuffer) now() trigger.Time {
	pt := g.pt
	if g.usesPT && !g.VirtualClock {
		pt = time.Now().UnixMilli()
	}
	return trigger.Time{Watermark: g.wm, ProcessingTime: pt}
}

func (g *GroupBuffer) inlineLimit() int {
	if g.InlineLimit > 0 {
		return g.InlineLimit
	}
	return InlineBytes
}

func (g *GroupBuffer) accumulating() bool {
	return g.Strategy.AccumulationMode == pipepb.AccumulationMode_ACCUMULATING
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
	for _, w := range g.wv.Windows {
		if window.Expired(g.Strategy, w, g.wm) {
			g.Dropped++
			continue
		}
		var gr *group
		if g.mergesEagerly() {
			if gr, err = g.mergeInto(key, w); err != nil {
				return err
			}
		} else if l := g.last; l != nil && l.window == w && l.key() == string(key) {
			gr = l
		} else {
			sk, keyAt := g.storeKeyOf(w, key)
			if gr = g.groups[string(sk)]; gr == nil {
				gr = &group{storeKey: string(sk), keyAt: keyAt, window: w, minTs: math.MaxInt64, maxTs: math.MinInt64}
				if !g.Strategy.Merging {
					gr.trig = g.trig.NewState()
				}
				g.groups[gr.storeKey] = gr
			}
			g.last = gr
		}
		if gr.closed {
			g.Dropped++
			continue
		}
		gr.minTs = min(gr.minTs, g.wv.Timestamp)
		gr.maxTs = max(gr.maxTs, g.wv.Timestamp)
		if g.Large != nil && !g.accumulating() && !g.mergesEagerly() && gr.count > 0 && gr.values.size+len(value) > g.inlineLimit() {
			if err := gr.spillValue(g.Store, value); err != nil {
				return err
			}
		} else {
			gr.values.add(value)
			gr.count++
		}
		// The default trigger only needs to hear of a pane's first element, and of every
		// late one (each is a pane of its own): skipping the rest keeps it off the hot path
		// of batch grouping.
		hear := gr.trig != nil && (g.keepsTriggerState() || !gr.fresh || g.wm > gr.window.MaxTimestamp())
		gr.fresh = true
		if hear {
			now, end := g.now(), gr.window.MaxTimestamp()
			g.trig.OnElement(gr.trig, end, now)
			if err := g.saveTrigger(gr); err != nil {
				return err
			}
			if !gr.ready && g.trig.ShouldFire(gr.trig, end, now) {
				gr.ready = true
				g.ready = append(g.ready, gr)
			}
		}
	}
	return nil
}

// Ready reports whether the trigger of some group fired on an element: the caller then
// calls Fire (at Watermark) to emit it.
func (g *GroupBuffer) Ready() bool { return len(g.ready) > 0 }

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

// EmitFunc receives an output element of a GroupBuffer: rec, followed by rest when it
// comes in pieces (see GroupBuffer.Pieces). The pieces are the GroupBuffer's: they must
// not be kept after it returns.
type EmitFunc func(rec []byte, rest ...[]byte) error

// Fire moves the watermark to wm and emits, in no particular order (Beam promises none),
// the panes of groups whose trigger fired on an element, then of those whose trigger fires
// at wm and the current processing time, and the last pane of every window wm expires
// (all of them for math.MaxInt64). Values in the store stay there until Release, so that
// the SDK can still read large groups while the bundle that carries them runs.
func (g *GroupBuffer) Fire(wm int64, emit EmitFunc) error {
	if err := g.init(); err != nil {
		return err
	}
	g.last = nil
	scan := wm > g.wm || g.usesPT && !g.VirtualClock
	g.wm = max(g.wm, wm)
	if g.mergesLazily() {
		for _, f := range g.mergedFirings(g.wm) {
			if err := g.emit(f, emit); err != nil {
				return err
			}
		}
		g.forgetPanes()
		return nil
	}
	for _, gr := range g.ready {
		gr.ready = false
		if err := g.firePane(gr, true, emit); err != nil {
			return err
		}
	}
	g.ready = g.ready[:0]
	if scan {
		if err := g.scan(emit); err != nil {
			return err
		}
	}
	g.forgetPanes()
	return nil
}

// AdvanceProcessingTime moves the virtual clock to pt and emits the panes it triggers.
func (g *GroupBuffer) AdvanceProcessingTime(pt int64, emit EmitFunc) error {
	if err := g.init(); err != nil {
		return err
	}
	g.last = nil
	if pt <= g.pt {
		return nil
	}
	g.pt = pt
	if !g.usesPT || g.mergesLazily() {
		return nil
	}
	return g.scan(emit)
}

// NextProcessingTime is when, by the wall clock, a processing-time trigger may fire next
// (math.MaxInt64 if none): the task calls Fire then.
func (g *GroupBuffer) NextProcessingTime() int64 {
	next := int64(math.MaxInt64)
	if g.groups == nil || !g.usesPT || g.VirtualClock || g.mergesLazily() {
		return next
	}
	for _, gr := range g.groups {
		if !gr.closed && gr.fresh {
			next = min(next, g.trig.NextProcessingTime(gr.trig, gr.window.MaxTimestamp()))
		}
	}
	return next
}

// scan emits the pane of every group whose trigger fires now, and the last pane of every
// expired window, and forgets expired windows.
func (g *GroupBuffer) scan(emit EmitFunc) error {
	now := g.now()
	for k, gr := range g.groups {
		expired := window.Expired(g.Strategy, gr.window, g.wm)
		if !gr.closed {
			// Asked also when nothing is buffered: a firing moves the trigger on (from
			// early to late firings, say) and may be an on-time pane of its own.
			fires := g.trig.ShouldFire(gr.trig, gr.window.MaxTimestamp(), now)
			if fires || expired {
				if err := g.firePane(gr, fires, emit); err != nil {
					return err
				}
			}
		}
		if expired {
			delete(g.groups, k) // deleting from the map being ranged over is allowed
			g.forgetSession(gr)
			if err := g.dropTrigger(gr); err != nil {
				return err
			}
		}
	}
	return nil
}

// firePane emits a pane of gr (a non-merging group). triggered says the trigger fired
// (rather than the window expiring), so its state moves on; a finished trigger closes the
// window. As in Beam's ReduceFnRunner, a pane goes out only with values that arrived since
// the previous one, except for the on-time pane under OnTimeBehavior FIRE_ALWAYS and the
// last pane under ClosingBehavior EMIT_ALWAYS.
func (g *GroupBuffer) firePane(gr *group, triggered bool, emit EmitFunc) error {
	if gr.closed || g.groups[gr.storeKey] != gr {
		return nil
	}
	if triggered {
		g.trig.OnFire(gr.trig, gr.window.MaxTimestamp(), g.now())
		gr.closed = g.trig.Finished(gr.trig)
		if err := g.saveTrigger(gr); err != nil {
			return err
		}
	}
	last := gr.closed || window.Expired(g.Strategy, gr.window, g.wm)
	if !gr.fresh && !g.onTimePaneOwed(gr) && !(last && g.Strategy.ClosingBehavior == pipepb.ClosingBehavior_EMIT_ALWAYS) {
		return nil
	}
	gr.fresh = false
	rec, rest, err := g.encode(firing{window: gr.window, members: []*group{gr}}, gr.closed)
	if err != nil {
		return err
	}
	err = g.emitted(rec, emit(rec, rest...))
	if !g.accumulating() || gr.closed { // after emit: rest may be gr's blocks
		if gr.spilled.count > 0 {
			g.fired = append(g.fired, gr.bagKey())
			gr.gen++
		}
		gr.values.reset()
		gr.count, gr.spilled.count = 0, 0
		gr.minTs, gr.maxTs = math.MaxInt64, math.MinInt64
	}
	return err
}

// onTimePaneOwed says whether gr, even with nothing new, is owed an on-time pane now: only
// under OnTimeBehavior FIRE_ALWAYS (the Go SDK asks for FIRE_IF_NONEMPTY; unspecified is
// taken as that too, so that no SDK gets empty panes it did not ask for).
func (g *GroupBuffer) onTimePaneOwed(gr *group) bool {
	return g.Strategy.OnTimeBehavior == pipepb.OnTimeBehavior_FIRE_ALWAYS &&
		g.wm > gr.window.MaxTimestamp() && !g.panes[gr.storeKey].onTime
}

// forgetPanes drops the pane counts of expired windows.
func (g *GroupBuffer) forgetPanes() {
	for k, p := range g.panes {
		if window.Expired(g.Strategy, p.window, g.wm) {
			delete(g.panes, k)
		}
	}
}

// pane is the pane info of the next firing of f at watermark g.wm. A firing before the
// watermark passes the end of the window is early; the first one after is on time, later
// ones (data that came late but within the allowed lateness) are late; the one at which
// the window expires, or after which the trigger has finished, is the last.
func (g *GroupBuffer) pane(f firing, finished bool) wire.PaneInfo {
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
	pane.IsLast = finished || window.Expired(g.Strategy, f.window, g.wm)
	if !pane.IsLast {
		g.panes[k] = p
	}
	return pane
}

// emit encodes the merged firing f, forgets its groups and passes the element on.
func (g *GroupBuffer) emit(f firing, emit EmitFunc) error {
	rec, rest, err := g.encode(f, false)
	if err != nil {
		return err
	}
	err = g.emitted(rec, emit(rec, rest...))
	for _, m := range f.members { // after emit: rest may be their blocks
		delete(g.groups, m.storeKey)
		if m.spilled.count > 0 {
			g.fired = append(g.fired, m.bagKey())
		}
		m.values.reset()
	}
	return err
}

// encode builds the output element of f: header, key, then the values, the ones in the
// store behind a state token. With Pieces, the values of a group larger than a block are
// not copied: they come back as rest (and the state token as its last piece), the element
// being rec followed by rest.
func (g *GroupBuffer) encode(f firing, finished bool) (rec []byte, rest [][]byte, err error) {
	count, stored, size, minTs, maxTs := 0, 0, 0, int64(math.MaxInt64), int64(math.MinInt64)
	for _, m := range f.members {
		count += m.count
		stored += m.spilled.count
		size += m.values.size
		minTs, maxTs = min(minTs, m.minTs), max(maxTs, m.maxTs)
	}
	pane := g.pane(f, finished)
	ts := f.window.MaxTimestamp() // of an empty on-time pane
	if count+stored > 0 {
		ts = window.OutputTimestamp(g.Strategy, f.window, minTs, maxTs)
	}
	inline := stored == 0
	pieces := g.Pieces && size > groupBlockBytes
	park := pieces && g.ParkBlocks && g.Large != nil && !g.accumulating() && !g.mergesEagerly()
	rec = g.rec[:0]
	need := len(f.members[0].key()) + 128 // 128 bytes cover the header and the iterable's framing
	if !pieces {
		need += size
	}
	if need > cap(rec) {
		// Sized at once: a hot key's group may be large.
		if need >= groupBlockBytes {
			rec = getLargeBuffer(need)
		} else {
			rec = make([]byte, 0, need)
		}
	}
	rec = wire.AppendHeader(rec, g.OutCodec.WindowCodec(), ts, []wire.Window{f.window}, pane)
	rec = append(rec, f.members[0].key()...)
	if park {
		rec, err = g.parkValues(f, rec)
		return g.keepRec(rec), nil, err
	}
	if inline {
		rec = binary.BigEndian.AppendUint32(rec, uint32(count))
	} else {
		// Chunked form: one block of the values in memory, then a state token for the
		// ones in the store.
		rec = wire.AppendIterableStart(rec)
		rec = wire.AppendVarInt(rec, int64(count)) // > 0: a group's first value is in memory
	}
	for _, m := range f.members {
		if pieces {
			rest = m.values.blocks(rest)
		} else {
			rec = m.values.appendTo(rec)
		}
	}
	if inline {
		return g.keepRec(rec), rest, nil
	}
	var keys [][]byte
	for _, m := range f.members {
		if m.spilled.count > 0 {
			if err := m.flushSpill(g.Store); err != nil {
				return nil, nil, err
			}
			keys = append(keys, m.bagKey())
		}
	}
	tok := g.Large.park(g.Store, keys)
	if pieces {
		return g.keepRec(rec), append(rest, wire.AppendIterableStateToken(nil, tok)), nil
	}
	return g.keepRec(wire.AppendIterableStateToken(rec, tok)), nil, nil
}

// parkValues ends rec, the element of f up to its values, with a state token for all of
// them: the blocks in memory, which go to Large as they are (the groups forget them, and
// they are not recycled: a state response may still be marshalling one), then the values
// in the store.
func (g *GroupBuffer) parkValues(f firing, rec []byte) ([]byte, error) {
	p := parkedGroup{store: g.Store}
	for _, m := range f.members {
		p.blocks = m.values.blocks(p.blocks)
		m.values = groupValues{}
	}
	for _, m := range f.members {
		if m.spilled.count > 0 {
			if err := m.flushSpill(g.Store); err != nil {
				return nil, err
			}
			p.keys = append(p.keys, m.bagKey())
		}
	}
	rec = wire.AppendIterableStart(rec)
	return wire.AppendIterableStateToken(rec, g.Large.parkGroup(p)), nil
}

// keepRec keeps rec's memory for the next element unless it is large: one hot key's group
// should not hold its size in memory for the rest of the job (see emitted).
func (g *GroupBuffer) keepRec(rec []byte) []byte {
	if cap(rec) <= maxKeptRec {
		g.rec = rec
	}
	return rec
}

// maxKeptRec is the largest output buffer a GroupBuffer keeps between elements.
const maxKeptRec = 4 * groupBlockBytes

// emitted is told that emit has returned with rec: a large one goes back to largeBuffers.
func (g *GroupBuffer) emitted(rec []byte, err error) error {
	if cap(rec) > maxKeptRec {
		putLargeBuffer(rec)
	}
	return err
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
