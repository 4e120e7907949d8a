package trigger

// Merge combines the states of windows being merged (sessions) into the state of the
// merged window, whose max timestamp is mergedMax, at time t. It follows Java's onMerge
// hooks: element counts add up, a processing-time trigger keeps the earliest deadline,
// a once-trigger (AfterCount, AfterProcessingTime) that finished in any of the windows
// is finished in the merged one, AfterEndOfWindow may fire on time again if the merged
// window ends after the watermark, and AfterEach resumes at the first sub-trigger not
// finished in the merge. The inputs are not modified; nil ones count as fresh states.
//
// The caller merges its buffers alongside, then treats the result like any state: if
// Merge returns a finished state, the merged window is closed.
func (m *Machine) Merge(states []*State, mergedMax int64, t Time) *State {
	out := m.NewState()
	srcs := make([]*State, 0, len(states))
	for _, s := range states {
		if s != nil {
			srcs = append(srcs, s)
		}
	}
	g := merger{run{m: m, s: out, windowMax: mergedMax, t: t}}
	g.merge(0, srcs)
	g.settleRoot()
	return out
}

type merger struct{ run }

// merge sets node i of the output from node i of srcs; composites merge their
// sub-triggers first, then decide their own finished bit from theirs.
func (g *merger) merge(i int, srcs []*State) {
	n, st := g.node(i), g.st(i)
	anyFinished, allFinished := false, len(srcs) > 0
	for _, s := range srcs {
		f := s.nodes[i].finished
		anyFinished = anyFinished || f
		allFinished = allFinished && f
	}
	switch n.kind {
	case kindDefault, kindAlways:
		for _, s := range srcs {
			st.n += s.nodes[i].n
		}
	case kindNever:
	case kindAfterCount:
		// A count reached in one of the windows has fired for the merged one
		// (Java's AfterPane.onMerge).
		if anyFinished {
			st.finished = true
			return
		}
		for _, s := range srcs {
			st.n += s.nodes[i].n
		}
	case kindProcessingTime, kindSynchronizedProcessingTime:
		// Java re-arms unless the merged window's own bit is set, which for a window
		// new to the merge it is not; we treat it as the once-trigger it is, like
		// AfterCount, so that the two leaves agree (a root processing-time trigger is
		// never finished before the end of its window anyway, see settleRoot).
		if anyFinished {
			st.finished = true
			return
		}
		for _, s := range srcs {
			if ns := s.nodes[i]; ns.armed && (!st.armed || ns.n < st.n) {
				st.armed, st.n = true, ns.n
			}
		}
	case kindEndOfWindow:
		// Still to fire unless every window has fired and the merged one has ended.
		st.finished = allFinished && g.endOfWindowPast()
	case kindEndOfWindowPhased:
		g.mergePhased(i, srcs)
	case kindAfterAll, kindAfterAny, kindOrFinally:
		all, some := true, false
		for _, c := range n.subs {
			g.merge(c, srcs)
			all = all && g.finished(c)
			some = some || g.finished(c)
		}
		if n.kind == kindAfterAll {
			st.finished = all
		} else {
			// AfterAny fires once any sub-trigger has; OrFinally ends when either part
			// has ended.
			st.finished = some
		}
	case kindAfterEach:
		// Sub-triggers after the first one still running start afresh: the merged
		// window has not reached them yet.
		for _, c := range n.subs {
			g.merge(c, srcs)
			if !g.finished(c) {
				break
			}
		}
		st.finished = g.firstUnfinished(i) < 0
	case kindRepeat:
		c := n.subs[0]
		g.merge(c, srcs)
		// A repeated trigger never stays finished (Java leaves a once-trigger finished
		// by the merge, which would stall the Repeat).
		if g.finished(c) {
			g.reset(c)
		}
	}
}

// mergePhased merges AfterEndOfWindow with early/late firings (Java's
// AfterWatermarkEarlyAndLate.onMerge).
func (g *merger) mergePhased(i int, srcs []*State) {
	n := g.node(i)
	early := n.subs[0]
	var inEarly []*State
	for _, s := range srcs {
		if !s.nodes[early].finished {
			inEarly = append(inEarly, s)
		}
	}
	if len(inEarly) > 0 || !g.endOfWindowPast() {
		// Some data has not had its on-time firing, or the merged window ends after
		// the watermark: the merged window is in its early phase. Only the windows
		// still in theirs contribute early state; Java merges the others' too, where
		// an early AfterCount that is finished in one window would finish the lot.
		// Early firings repeat, so a merged early trigger that came out finished
		// starts over, as after a firing. The late trigger starts at the on-time
		// firing; it stays fresh.
		g.merge(early, inEarly)
		if g.finished(early) {
			g.reset(early)
		}
		return
	}
	g.st(early).finished = true
	if n.hasLate {
		g.merge(n.subs[1], srcs)
	}
}
