package trigger

import "math"

// Time is what the caller knows when it asks: all in Beam millisecond timestamps.
type Time struct {
	Watermark      int64 // input watermark; math.MaxInt64 at end of input
	ProcessingTime int64 // current processing time (wall clock, or TestStream's virtual clock)
}

// OnElement records that an element arrived in the window whose max timestamp is
// windowMax, at time t. Call it for every element the caller buffers (not for those it
// drops because the window is finished or expired), then ask ShouldFire. No Beam
// trigger depends on the element's own timestamp, hence none is passed.
func (m *Machine) OnElement(s *State, windowMax int64, t Time) {
	if m.Finished(s) {
		return
	}
	r := run{m: m, s: s, windowMax: windowMax, t: t}
	r.onElement(0)
}

// ShouldFire says whether the group should emit a pane now. It does not change s. It
// can be true with nothing new buffered when the trigger has a transition to make (the
// on-time firing of AfterEndOfWindow whose data all went out early): the caller then
// still calls OnFire, and emits a pane only if its pane rules want an empty one.
func (m *Machine) ShouldFire(s *State, windowMax int64, t Time) bool {
	if m.Finished(s) {
		return false
	}
	r := run{m: m, s: s, windowMax: windowMax, t: t}
	return r.shouldFire(0)
}

// OnFire updates the state after the caller emitted a pane because ShouldFire was true
// (at the same t): it resets AfterCount under Repeat, moves AfterEach on, switches
// AfterEndOfWindow from early to late firings, marks triggers finished. It does nothing
// when ShouldFire is false, as the hooks below assume a ready trigger.
func (m *Machine) OnFire(s *State, windowMax int64, t Time) {
	r := run{m: m, s: s, windowMax: windowMax, t: t}
	if m.Finished(s) || !r.shouldFire(0) {
		return
	}
	r.onFire(0)
	r.settleRoot()
}

// Finished says the trigger will never fire again: the window is closed, and the caller
// drops later data for it and emits no final pane at expiry.
func (m *Machine) Finished(s *State) bool { return s.nodes[0].finished }

// NextProcessingTime is the earliest processing time at which ShouldFire may turn true
// by processing time alone, math.MaxInt64 if none, so that the caller knows when to wake
// up; a time not after the current one means ShouldFire is already true.
//
// It does not know the watermark, so conditions on the watermark count as unmet: the
// caller evaluates ShouldFire on every watermark advance anyway. The one case this
// misses is a composite that needs both the watermark and a later processing time (say
// AfterAll(AfterEndOfWindow, AfterProcessingTime(delay=1m)) once the watermark has
// passed): it then fires at the next element, watermark advance or expiry.
func (m *Machine) NextProcessingTime(s *State, windowMax int64) int64 {
	if m.Finished(s) {
		return math.MaxInt64
	}
	r := run{m: m, s: s, windowMax: windowMax, t: Time{Watermark: math.MinInt64}}
	return r.nextProcessingTime(0)
}

// run is one call's context: the tree, the group's state, and the time. Its methods
// are the per-node hooks of Java's TriggerStateMachine, switched on the node kind
// rather than spread over a type per kind, so that the whole of Beam's trigger
// semantics reads in one file.
//
// Composites run their sub-triggers the way Java does for merging windows (every
// sub-trigger sees every element, AfterEach clears the ones it has not reached after a
// firing), since a Machine does not know whether its windows merge, Merge needs that
// state, and for non-merging windows the firings are the same. AfterEndOfWindow with
// early/late firings is the exception, see onElement.
type run struct {
	m         *Machine
	s         *State
	windowMax int64
	t         Time
}

func (r *run) node(i int) *node      { return &r.m.nodes[i] }
func (r *run) st(i int) *nodeState   { return &r.s.nodes[i] }
func (r *run) finished(i int) bool   { return r.s.nodes[i].finished }
func (r *run) endOfWindowPast() bool { return r.t.Watermark > r.windowMax }

// firstUnfinished is AfterEach's current sub-trigger, -1 when all are done.
func (r *run) firstUnfinished(i int) int {
	for _, c := range r.node(i).subs {
		if !r.finished(c) {
			return c
		}
	}
	return -1
}

func (r *run) onElement(i int) {
	n, st := r.node(i), r.st(i)
	switch n.kind {
	case kindDefault, kindAlways, kindAfterCount:
		st.n++
	case kindProcessingTime, kindSynchronizedProcessingTime:
		// The delay runs from the first element of the pane; later ones do not move it
		// (Java's AfterDelayFromFirstElement).
		if !st.armed {
			st.armed = true
			st.n = r.deadline(n)
		}
	case kindEndOfWindowPhased:
		// Only the current phase's trigger: the late one starts afresh at the on-time
		// firing, and Merge takes early state only from windows still early, so state
		// kept for the other phase (Java's merging mode keeps it) would never be read.
		if early := n.subs[0]; !r.finished(early) {
			r.onElement(early)
		} else if n.hasLate {
			r.onElement(n.subs[1])
		}
	case kindAfterAll:
		// Java's AfterAll feeds only its unfinished sub-triggers, merging or not.
		for _, c := range n.subs {
			if !r.finished(c) {
				r.onElement(c)
			}
		}
	default:
		for _, c := range n.subs {
			r.onElement(c)
		}
	}
}

// deadline is the processing time at which a processing-time node armed now fires.
func (r *run) deadline(n *node) int64 {
	pt := r.t.ProcessingTime
	if n.kind == kindSynchronizedProcessingTime {
		// Java fires when the synchronized processing time is strictly after the
		// arrival's. This runner has one clock, so that is the next millisecond: with
		// TestStream's virtual clock the trigger waits for the clock to move, which is
		// what Beam's TriggerAfterSynchronizedProcessingTime test expects (one pane per
		// window, at expiry).
		return addSat(pt, 1)
	}
	for _, tr := range n.transforms {
		if tr.period == 0 {
			pt = addSat(pt, tr.delay)
			continue
		}
		// Align up to offset + k*period, staying put when already aligned (Java's
		// AlignFn; its % goes wrong before the offset, floorMod does not).
		if rem := floorMod(pt, tr.period) - floorMod(tr.offset, tr.period); rem != 0 {
			pt = addSat(pt, tr.period-floorMod(rem, tr.period))
		}
	}
	return pt
}

func (r *run) shouldFire(i int) bool {
	n, st := r.node(i), r.st(i)
	switch n.kind {
	case kindDefault:
		// Java's Default is ready whenever the watermark is past the window; asking
		// for something new as well keeps the caller from making an empty firing on
		// every watermark advance until expiry. The on-time firing always has
		// something: Default never fires before the end of the window.
		return r.endOfWindowPast() && st.n > 0
	case kindAlways:
		// The Go SDK's Always, Repeat(AfterCount(1)): Java's ReshuffleTrigger is ready
		// even with nothing new, which only yields empty firings.
		return st.n > 0
	case kindNever:
		return false
	case kindAfterCount:
		return st.n >= n.count
	case kindEndOfWindow:
		return r.endOfWindowPast()
	case kindProcessingTime, kindSynchronizedProcessingTime:
		// At the deadline, not strictly after it as Java's isAfter: Beam's Go
		// TriggerAfterProcessingTime advances the clock by exactly the delay and
		// expects a firing (prism fires at >= too).
		return st.armed && r.t.ProcessingTime >= st.n
	case kindEndOfWindowPhased:
		if early := n.subs[0]; !r.finished(early) {
			return r.endOfWindowPast() || r.shouldFire(early)
		}
		return n.hasLate && r.shouldFire(n.subs[1])
	case kindAfterAll:
		for _, c := range n.subs {
			if !r.finished(c) && !r.shouldFire(c) {
				return false
			}
		}
		return true
	case kindAfterAny:
		for _, c := range n.subs {
			if r.finished(c) || r.shouldFire(c) {
				return true
			}
		}
		return false
	case kindAfterEach:
		c := r.firstUnfinished(i)
		return c >= 0 && r.shouldFire(c)
	case kindRepeat:
		return r.shouldFire(n.subs[0])
	case kindOrFinally:
		return r.shouldFire(n.subs[0]) || r.shouldFire(n.subs[1])
	}
	return false
}

func (r *run) onFire(i int) {
	n, st := r.node(i), r.st(i)
	switch n.kind {
	case kindDefault, kindAlways:
		st.n = 0
	case kindNever:
	case kindAfterCount:
		st.n, st.finished = 0, true
	case kindEndOfWindow:
		st.finished = true
	case kindProcessingTime, kindSynchronizedProcessingTime:
		st.armed, st.n, st.finished = false, 0, true
	case kindEndOfWindowPhased:
		r.onFirePhased(i)
	case kindAfterAll:
		// Every unfinished sub-trigger is ready, or AfterAll would not be.
		for _, c := range n.subs {
			if !r.finished(c) {
				r.onFire(c)
			}
		}
		st.finished = true
	case kindAfterAny:
		// The sub-triggers that were not ready lose the pane they were tracking.
		for _, c := range n.subs {
			if r.shouldFire(c) {
				r.onFire(c)
			} else {
				r.clear(c)
			}
		}
		st.finished = true
	case kindAfterEach:
		cur := r.firstUnfinished(i)
		r.onFire(cur)
		// The sub-triggers after the current one ran in parallel (see run) but have not
		// started in Beam's terms: they start afresh with the next pane. The current
		// one keeps its state if it goes on, as in Java for non-merging windows (an
		// OrFinally's finally trigger counts across the main one's firings); Java's
		// merging mode clears it too, which would lose that count.
		for _, c := range n.subs {
			if c != cur || r.finished(c) {
				r.clear(c)
			}
		}
		st.finished = r.firstUnfinished(i) < 0
	case kindRepeat:
		r.repeatFire(n.subs[0])
	case kindOrFinally:
		main, finally := n.subs[0], n.subs[1]
		if r.shouldFire(finally) {
			r.onFire(finally)
			r.clear(main)
		} else {
			// The finally trigger keeps counting across the main one's firings.
			r.onFire(main)
		}
		st.finished = r.finished(main) || r.finished(finally)
	}
}

// onFirePhased is AfterEndOfWindow with early/late firings (Java's
// AfterWatermarkEarlyAndLate). The early trigger's finished bit is the phase: unset
// before the on-time firing, set after it.
func (r *run) onFirePhased(i int) {
	n := r.node(i)
	early := n.subs[0]
	switch {
	case !r.finished(early) && !r.endOfWindowPast():
		// An early firing. Early firings repeat implicitly, which we do exactly as
		// Repeat does. Java instead clears the early trigger and unsets only its own
		// finished bit, which leaves the bits inside a composite early trigger set:
		// AfterAll(AfterCount(2), ...) would then fire on every element after its
		// first firing.
		r.repeatFire(early)
	case !r.finished(early):
		// The on-time firing: early firings end, late ones start.
		r.reset(early)
		r.st(early).finished = true
		if !n.hasLate {
			r.st(i).finished = true
		}
	case n.hasLate:
		r.repeatFire(n.subs[1])
	default:
		r.st(i).finished = true
	}
}

// repeatFire fires sub-trigger c of a trigger that repeats it, and starts it over if
// that finished it.
func (r *run) repeatFire(c int) {
	r.onFire(c)
	if r.finished(c) {
		r.reset(c)
	}
}

// clear forgets the pane a node and its sub-triggers were tracking, keeping finished
// bits (Java's clear).
func (r *run) clear(i int) {
	st := r.st(i)
	st.armed, st.n = false, 0
	for _, c := range r.node(i).subs {
		r.clear(c)
	}
}

// reset returns a subtree to its initial state, finished bits included (Java's
// resetTree).
func (r *run) reset(i int) {
	clear(r.s.nodes[i:r.node(i).end])
}

// settleRoot applies the one rule that is not Java's: a root AfterProcessingTime (or
// AfterSynchronizedProcessingTime) that fires before the end of its window does not
// close the window but re-arms with the next element.
//
// Java's version of that trigger is a once-trigger: after its firing the window is
// closed and later data dropped (Java even refuses such "unsafe" triggers at
// construction unless told otherwise). Beam's Go TriggerAfterProcessingTime expects
// otherwise: in the global window, AfterProcessingTime(delay=5s) fires 1+2+3 at the
// deadline, and a 4 that arrives after that firing still comes out at the end. Prism
// passes it because it never drops data of a finished trigger, which would break
// TriggerElementCount, which expects exactly Java's dropping for AfterCount(2). The rule
// that satisfies both, and that we think right, is that a window is not closed by the
// clock alone: what a processing-time firing drops would depend on how fast the
// machine ran, and with the global window nothing would ever come out again. Inside
// composites Java's semantics stay (OrFinally(..., AfterProcessingTime) is how a user
// asks the clock to close a window), and a firing at or after the end of the window
// still finishes the trigger, so late data after it is dropped as in Java.
func (r *run) settleRoot() {
	if k := r.node(0).kind; (k == kindProcessingTime || k == kindSynchronizedProcessingTime) &&
		r.finished(0) && !r.endOfWindowPast() {
		r.reset(0)
	}
}

// nextProcessingTime is the earliest processing time at which node i becomes ready if
// nothing else happens: math.MinInt64 when it is ready whatever the time,
// math.MaxInt64 when time alone will not make it ready.
func (r *run) nextProcessingTime(i int) int64 {
	n, st := r.node(i), r.st(i)
	ready := func(b bool) int64 {
		if b {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	switch n.kind {
	case kindDefault, kindAlways, kindNever, kindAfterCount, kindEndOfWindow:
		return ready(r.shouldFire(i))
	case kindProcessingTime, kindSynchronizedProcessingTime:
		if st.armed {
			return st.n
		}
		return math.MaxInt64
	case kindEndOfWindowPhased:
		if early := n.subs[0]; !r.finished(early) {
			return r.nextProcessingTime(early)
		}
		if n.hasLate {
			return r.nextProcessingTime(n.subs[1])
		}
		return math.MaxInt64
	case kindAfterAll:
		at := int64(math.MinInt64)
		for _, c := range n.subs {
			if !r.finished(c) {
				at = max(at, r.nextProcessingTime(c))
			}
		}
		return at
	case kindAfterAny:
		at := int64(math.MaxInt64)
		for _, c := range n.subs {
			if r.finished(c) {
				return math.MinInt64
			}
			at = min(at, r.nextProcessingTime(c))
		}
		return at
	case kindAfterEach:
		if c := r.firstUnfinished(i); c >= 0 {
			return r.nextProcessingTime(c)
		}
		return math.MaxInt64
	case kindRepeat:
		return r.nextProcessingTime(n.subs[0])
	case kindOrFinally:
		return min(r.nextProcessingTime(n.subs[0]), r.nextProcessingTime(n.subs[1]))
	}
	return math.MaxInt64
}

func addSat(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
