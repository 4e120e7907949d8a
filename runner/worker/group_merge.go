package worker

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/sluice-runner/sluice/runner/trigger"
	"github.com/sluice-runner/sluice/runner/wire"
)

// Session windows merge in one of two ways. Under the Default trigger a window fires only
// once the watermark has passed it, when nothing can merge into it any more, so sessions
// merge lazily, at firing (mergedFirings), and each proto-window's values stay apart until
// then. Any other trigger may fire a session early, so it must see the session as it is
// now: elements merge eagerly, as they arrive, into the session they extend, and the
// trigger states of the merged sessions merge too (trigger.Machine.Merge), as Beam's
// ReduceFnRunner does. Eagerly merged groups keep their values in memory.

// mergesLazily says whether windows merge at firing.
func (g *GroupBuffer) mergesLazily() bool { return g.Strategy.Merging && !g.mergesEagerly() }

// mergesEagerly says whether windows merge as elements arrive.
func (g *GroupBuffer) mergesEagerly() bool {
	return g.Strategy.Merging && !isDefaultTrigger(g.Strategy.Trigger)
}

// storeKeyOf returns the store key of (w, key) and where the key starts in it.
func (g *GroupBuffer) storeKeyOf(w wire.Window, key []byte) ([]byte, int) {
	g.winBuf = g.InCodec.WindowCodec().Append(g.winBuf[:0], w)
	sk := binary.AppendUvarint(g.scratch[:0], uint64(len(g.winBuf)))
	sk = append(sk, g.winBuf...)
	keyAt := len(sk)
	sk = append(sk, key...)
	g.scratch = sk
	return sk, keyAt
}

// mergeInto returns the group of key's session that proto-window w falls in, merging the
// sessions w overlaps (and w) into one new group when w extends or bridges them.
func (g *GroupBuffer) mergeInto(key []byte, w wire.Window) (*group, error) {
	if g.sessions == nil {
		g.sessions = map[string][]*group{}
	}
	iw := intervalOf(w)
	var overlap []*group
	for _, s := range g.sessions[string(key)] {
		if sw := intervalOf(s.window); sw.Start < iw.End && iw.Start < sw.End {
			overlap = append(overlap, s)
		}
	}
	if len(overlap) == 1 {
		if sw := intervalOf(overlap[0].window); sw.Start <= iw.Start && iw.End <= sw.End {
			return overlap[0], nil // inside a session: nothing merges
		}
	}
	merged := iw
	for _, s := range overlap {
		sw := intervalOf(s.window)
		merged.Start, merged.End = min(merged.Start, sw.Start), max(merged.End, sw.End)
	}
	sk, keyAt := g.storeKeyOf(merged, key)
	gr := &group{storeKey: string(sk), keyAt: keyAt, window: merged, minTs: math.MaxInt64, maxTs: math.MinInt64}
	now := g.now()
	states := []*trigger.State{g.trig.NewState()} // w's own, fresh
	var panes firedPanes
	for _, s := range overlap {
		gr.values.addAll(&s.values)
		gr.count += s.count
		gr.minTs, gr.maxTs = min(gr.minTs, s.minTs), max(gr.maxTs, s.maxTs)
		gr.fresh = gr.fresh || s.fresh
		states = append(states, s.trig)
		if p, ok := g.panes[s.storeKey]; ok {
			panes.count, panes.nonSpec = max(panes.count, p.count), max(panes.nonSpec, p.nonSpec)
			panes.onTime = panes.onTime || p.onTime
			delete(g.panes, s.storeKey)
		}
		delete(g.groups, s.storeKey)
		g.forgetSession(s)
		if err := g.dropTrigger(s); err != nil {
			return nil, err
		}
	}
	gr.trig = g.trig.Merge(states, merged.MaxTimestamp(), now)
	gr.closed = g.trig.Finished(gr.trig)
	if panes.count > 0 {
		panes.window = merged
		g.panes[gr.storeKey] = panes
	}
	g.groups[gr.storeKey] = gr
	g.sessions[string(key)] = append(g.sessions[string(key)], gr)
	return gr, g.saveTrigger(gr)
}

// forgetSession drops gr from its key's sessions, if windows merge eagerly.
func (g *GroupBuffer) forgetSession(gr *group) {
	if g.sessions == nil {
		return
	}
	k := gr.key()
	ss := slices.DeleteFunc(g.sessions[k], func(s *group) bool { return s == gr })
	if len(ss) == 0 {
		delete(g.sessions, k)
	} else {
		g.sessions[k] = ss
	}
}
