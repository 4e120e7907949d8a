package worker

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"

	"github.com/sluice-runner/sluice/fnharness"
	"github.com/sluice-runner/sluice/runner/metrics"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/shuffle"
	"github.com/sluice-runner/sluice/state"
)

// Bundle limits: a bundle ends when it reaches either, or when the input has been idle for
// bundleLinger (so a slow trickle still makes progress downstream).
const (
	defaultMaxBundleElements = 100_000
	defaultMaxBundleBytes    = 64 << 20
	bundleLinger             = 5 * time.Millisecond
	// splitCheckInterval is how often a long bundle of a pooled stage looks for parked
	// subtasks to split work off to; after each split it waits twice as long as before,
	// up to maxSplitBackoff.
	splitCheckInterval = 20 * time.Millisecond
	maxSplitBackoff    = 2 * time.Second
)

// SDKTask runs one subtask of a fused SDK stage: records of its input go to an SDK harness
// in bundles, and what the harness emits on each sink goes to that sink's Output. With
// Group set, the stage's GroupByKey runs in the same task (operator chaining): the input
// is grouped first and each firing feeds the SDK, and large groups stay in the store, read
// by the SDK through runner state.
type SDKTask struct {
	Name         string
	Worker       *fnharness.Worker
	DescriptorID string
	SourceID     string
	Input        *shuffle.InputGate
	SideInputs   []*SideInputGate
	Group        *GroupBuffer
	// GroupInlineBytes is how many bytes of a group's values the task keeps in memory (in
	// the element, or parked: see ParkGroupBlocks); past them, values go to the group store
	// and the element ends in a state token the worker reads the rest with. 0 means
	// InlineBytes; negative keeps every value in its element (a native harness that does
	// not read runner state).
	GroupInlineBytes int
	// ParkGroupBlocks parks a large group's values in memory behind its state token too,
	// for a worker that reads them as it iterates them (see GroupBuffer.ParkBlocks).
	ParkGroupBlocks bool
	// DrainDescriptorID, set for a stage that processes a splittable DoFn, is what the
	// task runs once Drain is closed: the bundle in flight is checkpointed (split at
	// fraction 0) and every restriction left is truncated before it is processed.
	DrainDescriptorID string
	Drain             <-chan struct{}
	// OrderedLists are the element codecs of the stage's ordered-list states, by
	// transform id + "/" + state id.
	OrderedLists map[string]wire.Codec
	// StateGC, set for a stage with user state, drops the state of expired windows.
	StateGC *StateGC
	// KeyGroups is the job's max parallelism and KeyGroupRange the key groups this
	// subtask owns: user state is laid out by key group.
	KeyGroups     int
	KeyGroupRange shuffle.KeyGroupRange
	// KeyLengthPrefixed says partitioning hashes keys length-prefixed (see userState).
	KeyLengthPrefixed bool
	// Timers are the stage's timer families; TimerStore keeps their timers.
	Timers     []TimerFamily
	TimerStore state.Store
	// VirtualClock says processing time is not the wall clock but what the job's
	// TestStream says, received in band; it is +inf once the input has ended.
	VirtualClock bool
	// Pool, set for a splittable stage of more than one subtask, shares restrictions
	// between its subtasks; Subtask is this task's index in it.
	Pool    *WorkPool
	Subtask int
	// Outputs maps a descriptor sink transform id to the output it feeds.
	Outputs map[string]*Output
	// Store holds the side inputs and the main input buffered while they load;
	// UserStore the user state served to the SDK.
	Store     state.Store
	UserStore state.Store
	Metrics   *metrics.Aggregator
	// InputCountedUpstream, set when the stage's input comes from another SDK stage, is
	// that PCollection: its producer counts its elements already.
	InputCountedUpstream string
	Logger               *slog.Logger

	sides     *sideInputs
	runner    *RunnerState
	user      *userState
	readers   map[string]*wire.ElementReader
	timers    *stageTimers
	outs      Outputs
	bundle    *activeBundle
	residuals residualQueue
	inputWM   int64 // last input watermark
	emittedWM int64
	procTime  int64 // the virtual clock's processing time
	// nextSplit and splitBackoff pace the splits that share work with parked subtasks,
	// across the task's bundles: a residual runs as a new bundle, so a pace per bundle
	// would let two subtasks split ever smaller rests back and forth.
	nextSplit    time.Time
	splitBackoff time.Duration
	draining     bool
}

// drainSignal is the channel to watch for a drain, or nil when there is nothing to drain.
func (t *SDKTask) drainSignal() <-chan struct{} {
	if t.DrainDescriptorID == "" || t.draining {
		return nil
	}
	return t.Drain
}

// dueBy is the time residuals are compared against: all of them are due when draining.
func (t *SDKTask) dueBy() time.Time {
	if t.draining {
		return time.Now().Add(100 * 365 * 24 * time.Hour)
	}
	return time.Now()
}

// Run implements Task.
func (t *SDKTask) Run(ctx context.Context) error {
	if t.Store == nil || t.UserStore == nil {
		return fmt.Errorf("%s: the task has no state stores", t.Name)
	}
	t.sides = &sideInputs{gates: t.SideInputs, store: t.Store}
	t.runner = &RunnerState{}
	t.user = &userState{store: t.UserStore, orderedLists: t.OrderedLists, gc: t.StateGC, keyGroups: t.KeyGroups, owned: t.KeyGroupRange, keyPrefixed: t.KeyLengthPrefixed}
	if t.Group != nil {
		t.Group.Pieces = true // see send
		if t.GroupInlineBytes >= 0 {
			t.Group.Large, t.Group.InlineLimit = t.runner, t.GroupInlineBytes
			t.Group.ParkBlocks = t.ParkGroupBlocks
		}
	}
	if len(t.Timers) > 0 {
		if t.TimerStore == nil {
			return fmt.Errorf("%s: the stage has timers but no timer store", t.Name)
		}
		t.timers = newStageTimers(t.Timers, t.TimerStore, t.KeyGroups)
	}
	t.readers = map[string]*wire.ElementReader{}
	for sink, o := range t.Outputs {
		t.readers[sink] = wire.NewElementReader(o.Codec)
		t.outs = append(t.outs, o)
	}
	t.inputWM, t.emittedWM, t.procTime = math.MinInt64, math.MinInt64, math.MinInt64
	buffered, err := t.awaitSideInputs(ctx)
	if err != nil {
		return err
	}
	err = t.process(ctx, buffered)
	if t.user.misplaced > 0 {
		t.Logger.Warn("user state requests for keys outside the subtask's key groups: the SDK's state keys do not hash like its partitioning keys", "task", t.Name, "requests", t.user.misplaced, "key_groups", t.KeyGroupRange)
	}
	if t.Group != nil && t.Group.Dropped > 0 {
		t.Logger.Warn("dropped data that came after its window expired", "task", t.Name, "elements", t.Group.Dropped)
	}
	if n := t.runner.parkedTotal(); n > 0 {
		t.Logger.Debug("large groups read their values past the inline part from runner state", "task", t.Name, "groups", n, "inline_bytes", t.Group.inlineLimit())
	}
	return err
}

// HandleState implements fnharness.StateHandler: user state, side inputs and
// large-group tails.
func (t *SDKTask) HandleState(ctx context.Context, req *fnpb.StateRequest) *fnpb.StateResponse {
	if k, ok := req.GetStateKey().GetType().(*fnpb.StateKey_Runner_); ok {
		return t.runner.handle(k.Runner, req)
	}
	if resp, ok := t.user.handle(req); ok {
		return resp
	}
	return t.sides.HandleState(ctx, req)
}

// bufferedInput is main input that arrived while side inputs were not yet ready.
type bufferedInput struct {
	count int // records in the store
	seen  int // records seen (in the store or grouped)
	// final is the last watermark seen, or EndOfData.
	final *shuffle.Event
	// procTime is the last processing time seen, if any.
	procTime *shuffle.Event
}

var mainBufferKey = []byte("\xffmain")

// awaitSideInputs reads every side input to its end. Main input that arrives meanwhile is
// kept in the state store (or grouped): blocking it instead could deadlock a producer that
// feeds both.
func (t *SDKTask) awaitSideInputs(ctx context.Context) (*bufferedInput, error) {
	buf := &bufferedInput{}
	for {
		// A subtask whose main input ended empty runs no bundle: it only drains its side
		// inputs (a broadcast reaches every subtask, also those with no main input).
		unused := buf.final != nil && buf.final.Kind == shuffle.EventEndOfData && buf.seen == 0
		open, progress := 0, false
		for i, g := range t.SideInputs {
			if g.Gate.Done() {
				continue
			}
			open++
			if ev, ok := g.Gate.Poll(); ok {
				progress = true
				if ev.Kind == shuffle.EventRecord && !unused {
					if err := t.sides.add(i, ev.Record); err != nil {
						return nil, fmt.Errorf("%s: %w", t.Name, err)
					}
				}
			}
		}
		if open == 0 {
			return buf, t.sides.flush()
		}
		if buf.final == nil || buf.final.Kind != shuffle.EventEndOfData {
			if ev, ok := t.Input.Poll(); ok {
				progress = true
				switch {
				case ev.Kind == shuffle.EventProcessingTime:
					e := ev
					buf.procTime = &e
				case ev.Kind != shuffle.EventRecord:
					e := ev
					buf.final = &e
				case t.Group != nil:
					buf.seen++
					if err := t.Group.Add(ev.Record); err != nil {
						return nil, fmt.Errorf("%s: %w", t.Name, err)
					}
				default:
					if err := t.Store.AppendBag(mainBufferKey, ev.Record); err != nil {
						return nil, err
					}
					buf.count++
					buf.seen++
				}
			}
		}
		if progress {
			continue
		}
		chans := []<-chan struct{}{t.Input.Available()}
		for _, g := range t.SideInputs {
			if !g.Gate.Done() {
				chans = append(chans, g.Gate.Available())
			}
		}
		if err := waitAny(ctx, chans...); err != nil {
			return nil, err
		}
	}
}

// process runs the main input through bundles: first what was buffered, then the gate,
// then any residuals the SDK asked to resume later.
func (t *SDKTask) process(ctx context.Context, buffered *bufferedInput) error {
	if buffered.count > 0 {
		err := t.Store.ReadBag(mainBufferKey, func(rec []byte) error { return t.send(ctx, rec) })
		if err != nil {
			return err
		}
		if err := t.Store.ClearBag(mainBufferKey); err != nil {
			return err
		}
	}
	if t.Group != nil && t.Group.Ready() { // grouped while side inputs loaded
		if err := t.Group.Fire(t.Group.Watermark(), t.emitGroup(ctx)); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	if buffered.procTime != nil {
		if _, err := t.control(ctx, *buffered.procTime); err != nil {
			return err
		}
	}
	inputDone := false
	if buffered.final != nil {
		done, err := t.control(ctx, *buffered.final)
		if err != nil {
			return err
		}
		inputDone = done
	}
	linger := time.NewTimer(time.Hour)
	defer linger.Stop()
	for {
		if !t.residuals.empty() { // checked first: this runs once per input record
			for _, r := range t.residuals.takeDue(t.dueBy()) {
				if err := t.send(ctx, r); err != nil {
					return err
				}
			}
		}
		var parked <-chan struct{}
		if inputDone && t.bundle == nil && t.residuals.empty() && t.timers.idle() {
			if t.Pool == nil {
				return t.outs.Close(ctx)
			}
			work, finished, wake := t.Pool.Park(t.Subtask)
			if finished {
				return t.outs.Close(ctx)
			}
			for _, rec := range work {
				if err := t.send(ctx, rec); err != nil {
					return err
				}
			}
			if len(work) > 0 {
				continue
			}
			parked = wake
		}
		if !inputDone {
			if ev, ok := t.Input.Poll(); ok {
				if ev.Kind == shuffle.EventRecord {
					if t.Group != nil {
						if err := t.group(ctx, ev.Record); err != nil {
							return err
						}
						continue
					}
					if err := t.send(ctx, ev.Record); err != nil {
						return err
					}
					continue
				}
				done, err := t.control(ctx, ev)
				if err != nil {
					return err
				}
				inputDone = done
				continue
			}
			if err := t.Input.Err(); err != nil {
				return err
			}
		}
		// Nothing to read right now: wait for input, the bundle, or a residual's time.
		var inputReady, bundleReady <-chan struct{}
		var lingerC, residualC, timerC <-chan time.Time
		if !inputDone {
			inputReady = t.Input.Available()
		}
		if t.bundle != nil {
			bundleReady = t.bundle.bundle.Available()
			linger.Reset(bundleLinger)
			lingerC = linger.C
		} else if next, ok := t.residuals.next(); ok {
			residualC = time.After(time.Until(next))
		}
		if next, ok := t.nextWallClockWake(); ok {
			timerC = time.After(time.Until(next))
		}
		select {
		case <-inputReady:
		case <-bundleReady:
			if err := t.routeOutputs(ctx); err != nil {
				return err
			}
		case <-lingerC:
			if err := t.finish(ctx); err != nil {
				return err
			}
		case <-residualC:
		case <-timerC:
			if err := t.onWallClock(ctx); err != nil {
				return err
			}
		case <-parked:
		case <-t.drainSignal():
			if t.bundle == nil {
				t.draining = true
			} else if err := t.finish(ctx); err != nil { // checkpoints the bundle
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// group adds a record to the chained GroupByKey and emits the pane its trigger fires, if any.
func (t *SDKTask) group(ctx context.Context, rec []byte) error {
	if err := t.Group.Add(rec); err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	if !t.Group.Ready() {
		return nil
	}
	if err := t.Group.Fire(t.Group.Watermark(), t.emitGroup(ctx)); err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	return nil
}

// control handles a watermark, a processing time or end of data: everything before it is
// emitted and its bundle finished first. It reports whether the input has ended.
func (t *SDKTask) control(ctx context.Context, ev shuffle.Event) (bool, error) {
	if ev.Kind == shuffle.EventProcessingTime {
		return false, t.advanceProcessingTime(ctx, ev.Watermark)
	}
	wm := ev.Watermark
	if ev.Kind == shuffle.EventEndOfData {
		wm = math.MaxInt64
	}
	if t.Group != nil {
		if err := t.Group.Fire(wm, t.emitGroup(ctx)); err != nil {
			return false, fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	if err := t.finish(ctx); err != nil {
		return false, err
	}
	t.inputWM = wm
	if err := t.fireEventTimers(ctx); err != nil {
		return false, err
	}
	if ev.Kind != shuffle.EventEndOfData { // at the end the job's state goes whole
		if n, err := t.user.expire(wm); err != nil {
			return false, fmt.Errorf("%s: dropping the state of expired windows: %w", t.Name, err)
		} else if n > 0 {
			t.Logger.Debug("dropped the state of expired windows", "task", t.Name, "window_keys", n)
		}
	}
	if ev.Kind == shuffle.EventEndOfData {
		if t.VirtualClock { // the clock stops with its TestStream: what is left fires
			t.procTime = math.MaxInt64
			if err := t.fireProcessingTimers(ctx); err != nil {
				return false, err
			}
		}
		return true, nil
	}
	return false, t.forwardWatermark(ctx)
}

// forwardWatermark emits the input watermark, held back by pending residuals.
func (t *SDKTask) forwardWatermark(ctx context.Context) error {
	wm := min(t.inputWM, t.residuals.hold(), t.timers.hold())
	if t.Pool != nil && wm == math.MaxInt64 {
		return nil // sent when the whole stage has finished (see WorkPool)
	}
	if wm <= t.emittedWM {
		return nil
	}
	t.emittedWM = wm
	if t.Pool != nil {
		t.Pool.NoteWatermark(wm)
	}
	return t.outs.EmitWatermark(ctx, wm)
}

// activeBundle is the bundle in flight.
type activeBundle struct {
	bundle   *fnharness.Bundle
	elements int
	bytes    int
	// records are kept for a splittable stage, to re-queue the ones a split gives back;
	// those from unstarted on have been given back already.
	records   [][]byte
	unstarted int
}

// split asks the SDK to split the bundle at fraction of what remains. It returns the
// residual restrictions and the input elements the bundle will now not start.
func (t *SDKTask) split(ctx context.Context, b *activeBundle, fraction float64) ([]*fnpb.DelayedBundleApplication, [][]byte, error) {
	resp, err := b.bundle.Split(ctx, &fnpb.ProcessBundleSplitRequest{DesiredSplits: map[string]*fnpb.ProcessBundleSplitRequest_DesiredSplit{
		t.SourceID: {FractionOfRemainder: fraction, EstimatedInputElements: int64(b.elements)},
	}})
	if err != nil {
		return nil, nil, err
	}
	var unstarted [][]byte
	for _, cs := range resp.GetChannelSplits() {
		if cs.GetTransformId() != t.SourceID {
			continue
		}
		first := max(int(cs.GetFirstResidualElement()), 0)
		if first < b.unstarted {
			unstarted = append(unstarted, b.records[first:b.unstarted]...)
			b.unstarted = first
		}
	}
	return resp.GetResidualRoots(), unstarted, nil
}

// startBundle starts a bundle unless one is in flight.
func (t *SDKTask) startBundle(ctx context.Context) error {
	if t.bundle != nil {
		return nil
	}
	sinks := make([]string, 0, len(t.Outputs))
	for sink := range t.Outputs {
		sinks = append(sinks, sink)
	}
	desc := t.DescriptorID
	if t.draining {
		desc = t.DrainDescriptorID
	}
	b, err := t.Worker.StartBundle(ctx, desc, t, fnharness.ExpectOutputs{Transforms: sinks, Timers: t.timers.families()})
	if err != nil {
		return fmt.Errorf("%s: starting a bundle: %w", t.Name, err)
	}
	t.bundle = &activeBundle{bundle: b}
	return nil
}

// emitGroup is what the task's GroupBuffer emits its elements to.
func (t *SDKTask) emitGroup(ctx context.Context) EmitFunc {
	return func(rec []byte, rest ...[]byte) error { return t.send(ctx, rec, rest...) }
}

// send adds one element to the current bundle, starting one if needed: rec, followed by
// rest when the element comes in pieces, which go on the data stream as they are (an
// element may span Data messages).
func (t *SDKTask) send(ctx context.Context, rec []byte, rest ...[]byte) error {
	if err := t.startBundle(ctx); err != nil {
		return err
	}
	b := t.bundle
	size := len(rec)
	if err := b.bundle.Send(t.SourceID, rec); err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	for _, piece := range rest {
		if err := b.bundle.Send(t.SourceID, piece); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		size += len(piece)
	}
	b.elements++
	b.bytes += size
	if t.DrainDescriptorID != "" && !t.draining {
		b.records = append(b.records, slices.Concat(append([][]byte{rec}, rest...)...))
		b.unstarted = len(b.records)
	}
	if b.elements >= defaultMaxBundleElements || b.bytes >= defaultMaxBundleBytes {
		return t.finish(ctx)
	}
	// Route what the SDK already produced so outputs do not pile up during a long bundle.
	if b.elements%256 == 0 {
		select {
		case <-b.bundle.Available():
			return t.routeOutputs(ctx)
		default:
		}
	}
	return nil
}

// routeOutputs routes the current bundle's queued outputs to their edges.
func (t *SDKTask) routeOutputs(ctx context.Context) error {
	for _, out := range t.bundle.bundle.Outputs() {
		if out.TimerFamily != "" {
			if err := t.timers.apply(out); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			continue
		}
		o, r := t.Outputs[out.TransformID], t.readers[out.TransformID]
		if o == nil {
			return fmt.Errorf("%s: the SDK sent data for unknown sink %q", t.Name, out.TransformID)
		}
		emit := func(rec []byte) error { return o.Emit(ctx, rec) }
		err := r.Feed(out.Data, emit)
		if err == nil && out.IsLast {
			err = r.End(emit)
		}
		if err != nil {
			return fmt.Errorf("%s: output %q: %w", t.Name, o.PCollection, err)
		}
	}
	return nil
}

// finish closes the current bundle's input, routes all its output and commits it:
// metrics, residuals to resume, then bundle finalization when the SDK asks for it.
func (t *SDKTask) finish(ctx context.Context) error {
	b := t.bundle
	if b == nil {
		return nil
	}
	if err := b.bundle.CloseInput([]string{t.SourceID}, t.timers.families()); err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	var splitC <-chan time.Time
	if t.Pool != nil {
		tick := time.NewTicker(splitCheckInterval)
		defer tick.Stop()
		splitC = tick.C
	}
	for done := false; !done; {
		select {
		case <-b.bundle.Available():
			if err := t.routeOutputs(ctx); err != nil {
				return err
			}
		case <-b.bundle.Done():
			done = true
		case <-t.drainSignal():
			if err := t.checkpoint(ctx, b); err != nil {
				return err
			}
		case <-splitC:
			t.shareWork(ctx, b)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := t.routeOutputs(ctx); err != nil {
		return err
	}
	t.bundle = nil
	resp, err := b.bundle.Result()
	if err != nil {
		return fmt.Errorf("%s: bundle %s failed: %w", t.Name, b.bundle.InstructionID(), err)
	}
	if t.Group != nil {
		if err := t.Group.Release(); err != nil {
			return err
		}
	}
	for _, r := range resp.GetResidualRoots() {
		t.residuals.add(r, time.Now())
	}
	if t.Metrics != nil {
		if err := t.Metrics.Add(metrics.WithoutPCollectionCounts(resp.GetMonitoringInfos(), t.InputCountedUpstream)); err != nil {
			t.Logger.Warn("dropping malformed bundle metrics", "task", t.Name, "err", err)
		}
	}
	if resp.GetRequiresFinalization() {
		if err := t.Worker.Finalize(ctx, b.bundle.InstructionID()); err != nil {
			return fmt.Errorf("%s: finalizing bundle %s: %w", t.Name, b.bundle.InstructionID(), err)
		}
	}
	// Residuals that were holding the watermark may be gone now.
	return t.forwardWatermark(ctx)
}

// checkpoint starts draining: it asks the SDK to stop the bundle in flight where it is
// (a split at fraction 0 of the remainder) and queues what the split hands back, the
// residual restrictions and any input not yet started, to run truncated.
func (t *SDKTask) checkpoint(ctx context.Context, b *activeBundle) error {
	t.draining = true
	roots, unstarted, err := t.split(ctx, b, 0)
	if err != nil {
		return fmt.Errorf("%s: checkpointing bundle %s to drain: %w", t.Name, b.bundle.InstructionID(), err)
	}
	now := time.Now()
	for _, r := range roots {
		t.residuals.add(r, now)
	}
	for _, rec := range unstarted {
		t.residuals.add(&fnpb.DelayedBundleApplication{Application: &fnpb.BundleApplication{Element: rec}}, now)
	}
	t.Logger.Info("draining: bundle checkpointed", "task", t.Name, "residuals", len(roots)+len(unstarted))
	return nil
}

// shareWork splits the bundle in flight when other subtasks of the stage are parked with
// nothing to do, and offers them the residual: the runner-initiated dynamic split that
// spreads one large restriction over the stage. A split the SDK declines, or that fails
// because the bundle has just ended, only delays the next attempt.
func (t *SDKTask) shareWork(ctx context.Context, b *activeBundle) {
	now := time.Now()
	if t.draining || now.Before(t.nextSplit) {
		return
	}
	hungry := t.Pool.MaySplit(t.emittedWM)
	if hungry == 0 {
		return
	}
	// Keep 1/(hungry+1) of the remainder: each parked subtask can then split off its part.
	roots, unstarted, err := t.split(ctx, b, 1/float64(hungry+1))
	if err != nil {
		t.Logger.Debug("dynamic split failed", "task", t.Name, "bundle", b.bundle.InstructionID(), "err", err)
	}
	work := unstarted
	for _, r := range roots {
		work = append(work, r.GetApplication().GetElement())
	}
	if len(work) > 0 {
		t.Logger.Debug("dynamic split", "task", t.Name, "bundle", b.bundle.InstructionID(), "parked", hungry, "residuals", len(work))
	}
	// Back off after every split, successful or not: near the end of a restriction a
	// parked subtask finishes each residual at once and would ask again, and splitting
	// ever smaller rests costs more than it saves (a storm of 140 splits made word count
	// half as fast). Doubling bounds a task to a few splits per second, and to a dozen or
	// so over a stage's last phase.
	t.splitBackoff = min(max(2*t.splitBackoff, splitCheckInterval), maxSplitBackoff)
	t.nextSplit = time.Now().Add(t.splitBackoff)
	t.Pool.Offer(work)
}
