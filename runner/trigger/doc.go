// Package trigger runs Beam triggers: it decides, for one (window, key) of a
// GroupByKey, when the values buffered so far are emitted as a pane.
//
// # Why a package of its own
//
// A trigger is a small state machine per group (counts, deadlines, which
// sub-trigger of an AfterEach is current, whether early firings are over), and its
// rules are subtle enough that they deserve to be tested apart from buffering,
// shuffling and the Fn API. Like etcd's raft, the package is only the deterministic
// core: it keeps no clock, no buffer, no timer and does no I/O. The caller tells it
// what happened (an element, the time now) and asks what to do; the same inputs
// always give the same answers, which is what the scripts in testdata/ rely on.
//
// # How the caller uses it
//
// New parses the WindowingStrategy's trigger once per GroupByKey into an immutable
// Machine. For each (window, key) the caller keeps a State (NewState), stored as bytes
// between calls if it likes (AppendBinary, DecodeState), and plays Beam's
// ReduceFnRunner around it:
//
//   - an element for a window that has expired (watermark past its end plus the
//     allowed lateness), or whose trigger is Finished, is dropped;
//   - otherwise it is buffered and passed to OnElement, then ShouldFire is asked;
//   - after every watermark or processing-time advance, ShouldFire is asked again for
//     the groups that may have become ready;
//   - when ShouldFire is true the caller emits the buffered values as a pane (in
//     discarding mode it then forgets them) and calls OnFire with the same time;
//   - NextProcessingTime says when to wake the group up for a processing-time
//     firing;
//   - when the window expires, the caller emits what is still buffered as the final
//     pane unless the trigger is Finished, and drops the state;
//   - when session windows merge, Merge combines their states into the merged
//     window's.
//
// Pane bookkeeping (index, timing, first and last), accumulation mode, allowed
// lateness and the final pane at expiry are the caller's: the Machine only answers
// "fire now?" and keeps the trigger's own state.
//
// # Semantics
//
// The machines follow Java's TriggerStateMachines (runners-core), the reference
// implementation of Beam's model, hook for hook: onElement, shouldFire, onFire,
// onMerge, clear and resetTree over a tree of nodes with a finished bit each. Where
// Beam's Go integration tests (sdks/go/test/integration/primitives/windowinto.go) or
// Java's own quirks call for it, we deviate, each time with a comment at the spot:
//
//   - a root AfterProcessingTime does not close its window when it fires before the
//     window's end; it waits for the next element (run.settleRoot);
//   - a processing-time deadline is met at, not strictly after, its time;
//     AfterSynchronizedProcessingTime's is one millisecond after the element's arrival;
//   - Always and Default are ready only with something new to emit, so that a caller
//     asking after every watermark advance does not make empty firings;
//   - the implicit repeat of early and late firings is Repeat's;
//   - sub-triggers count in parallel, as Java's do only for merging windows, so that
//     Merge works whatever the WindowFn (the firings are the same either way);
//   - Merge takes a once-trigger that finished in any merged window as finished,
//     AfterProcessingTime included, like Java's AfterCount.
package trigger
