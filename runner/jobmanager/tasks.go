package jobmanager

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/sluice-runner/sluice/codegen/fingerprint"
	"github.com/sluice-runner/sluice/fnharness"
	"github.com/sluice-runner/sluice/runner/plan"
	"github.com/sluice-runner/sluice/runner/window"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/runner/worker"
	"github.com/sluice-runner/sluice/shuffle"
	"github.com/sluice-runner/sluice/state"
)

// task is what every operator's subtask implements.
type task interface {
	Run(ctx context.Context) error
}

type namedTask struct {
	name string
	task task
}

// StateBackend keeps the state of jobs' tasks as namespaces of one database (a
// state.PebbleDB): each task store is the namespace (job id, stage id, subtask, store) —
// see state.Namespace — and a job's namespace is dropped when its last task has ended.
type StateBackend interface {
	Store(ns []byte) state.Store
	DropNamespace(ns []byte) error
}

// jobState gives the tasks of one job their state stores when they start, and drops the
// job's state when the last of them has ended. Stores are not closed: the state service
// may still answer a straggling request of a failed job with them.
type jobState struct {
	backend StateBackend // nil: in memory
	jobID   string
	log     *slog.Logger
	tasks   atomic.Int64 // stateful tasks not yet ended
}

// statefulTask is a task with state stores; attach hands them over when it starts.
type statefulTask struct {
	task   task
	state  *jobState
	stage  string
	sub    int
	attach func(open func(store string) state.Store)
}

// Run opens the task's stores (in the job's StateBackend, or in memory) and runs it.
func (t *statefulTask) Run(ctx context.Context) error {
	b := t.state.backend
	t.attach(func(store string) state.Store {
		if b == nil {
			return state.NewMemStore()
		}
		return b.Store(state.Namespace(t.state.jobID, t.stage, strconv.Itoa(t.sub), store))
	})
	defer t.state.ended(b)
	return t.task.Run(ctx)
}

func (j *jobState) ended(b StateBackend) {
	if j.tasks.Add(-1) > 0 || b == nil {
		return
	}
	if err := b.DropNamespace(state.Namespace(j.jobID)); err != nil {
		j.log.Warn("dropping the job's state", "err", err)
	}
}

// taskBuilder expands a JobGraph into tasks: one per stage subtask, wired by one exchange
// per edge.
type taskBuilder struct {
	job       Job
	g         *plan.JobGraph
	workers   map[string]*fnharness.Worker
	native    nativeRun
	log       *slog.Logger
	chained   map[string]*plan.Stage // consumer stage id -> GroupByKey stage run in its task
	exchanges map[*plan.Edge]*shuffle.Exchange
	codecs    map[string]*wire.WindowedValueCodec
	drain     <-chan struct{}
	state     *jobState
}

func buildTasks(job Job, g *plan.JobGraph, workers map[string]*fnharness.Worker, native nativeRun, backend StateBackend, drain <-chan struct{}, log *slog.Logger) ([]namedTask, error) {
	b := &taskBuilder{job: job, g: g, workers: workers, native: native, log: log, chained: chainedGroups(g), drain: drain,
		exchanges: map[*plan.Edge]*shuffle.Exchange{}, codecs: map[string]*wire.WindowedValueCodec{},
		state: &jobState{backend: backend, jobID: job.ID, log: log}}
	for _, e := range g.Edges {
		if gs := b.chained[e.To]; gs != nil && gs.ID == e.From {
			continue // the group runs inside its consumer's task
		}
		ex, err := shuffle.NewExchange(shuffle.ExchangeConfig{
			Producers:      g.Stage(e.From).Parallelism,
			Consumers:      g.Stage(e.To).Parallelism,
			Partitioning:   e.Partitioning,
			MaxParallelism: g.MaxParallelism,
		})
		if err != nil {
			return nil, fmt.Errorf("edge %s -> %s (%s): %w", e.From, e.To, e.PCollection, err)
		}
		b.exchanges[e] = ex
	}
	var tasks []namedTask
	for _, s := range g.Stages {
		if isChained(b.chained, s) {
			continue
		}
		var pool *worker.WorkPool
		if s.DrainDescriptor != nil && s.Parallelism > 1 {
			pool = worker.NewWorkPool(s.Parallelism)
		}
		for sub := 0; sub < s.Parallelism; sub++ {
			t, err := b.task(s, sub, pool)
			if err != nil {
				return nil, err
			}
			tasks = append(tasks, t)
		}
	}
	return tasks, nil
}

func (b *taskBuilder) codec(pc string) (*wire.WindowedValueCodec, error) {
	if c, ok := b.codecs[pc]; ok {
		return c, nil
	}
	c, err := wire.NewWindowedValueCodec(b.g.Components, b.g.PortCoders[pc])
	if err != nil {
		return nil, fmt.Errorf("PCollection %q: %w", pc, err)
	}
	b.codecs[pc] = c
	return c, nil
}

// task makes subtask sub of stage s; pool is the work pool of a splittable stage.
func (b *taskBuilder) task(s *plan.Stage, sub int, pool *worker.WorkPool) (namedTask, error) {
	name := fmt.Sprintf("%s[%d/%d] %s", s.ID, sub+1, s.Parallelism, stageName(b.g, s))
	outs, err := b.outputs(s, sub)
	if err != nil {
		return namedTask{}, err
	}
	main, sides, err := b.inputs(s, sub)
	if err != nil {
		return namedTask{}, err
	}
	var t task
	switch s.Kind {
	case plan.KindImpulse:
		t = &worker.ImpulseTask{Subtask: sub, Out: outs}
	case plan.KindTestStream:
		ts := &worker.TestStreamTask{Name: name, Source: s.TestStream, Logger: b.log}
		if len(outs) > 0 {
			ts.Out = outs[0]
			pc := b.g.Components.GetPcollections()[s.TestStream.Output]
			strategy, err := window.StrategyFromProto(b.g.Components.GetWindowingStrategies()[pc.GetWindowingStrategyId()])
			if err != nil {
				return namedTask{}, fmt.Errorf("stage %s: %w", s.ID, err)
			}
			ts.Strategy = strategy
		}
		t = ts
	case plan.KindGroupByKey:
		if len(outs) != 1 {
			return namedTask{}, fmt.Errorf("stage %s: a GroupByKey needs exactly one consumed output, has %d", s.ID, len(outs))
		}
		buf, err := groupBuffer(b.g, s, b.codec)
		if err != nil {
			return namedTask{}, err
		}
		t = b.stateful(s, sub, &worker.GroupTask{Name: name, Input: main, Buffer: buf, Out: outs[0], Logger: b.log},
			func(open func(string) state.Store) { buf.Store = open("group") })
	case plan.KindSDK:
		sinkOuts := map[string]*worker.Output{}
		for _, o := range outs {
			sinkOuts[s.SinkTransformIDs[o.PCollection]] = o
		}
		orderedLists := map[string]wire.Codec{}
		for key, coderID := range s.OrderedListCoders() {
			c, err := wire.NewCodec(b.g.Components, coderID)
			if err != nil {
				return namedTask{}, fmt.Errorf("stage %s: ordered list state %s: %w", s.ID, key, err)
			}
			orderedLists[key] = c
		}
		timers, err := timerFamilies(b.g, s)
		if err != nil {
			return namedTask{}, err
		}
		gc, err := b.stateGC(s)
		if err != nil {
			return namedTask{}, err
		}
		var group *worker.GroupBuffer
		if gs := b.chained[s.ID]; gs != nil {
			if group, err = groupBuffer(b.g, gs, b.codec); err != nil {
				return namedTask{}, err
			}
		}
		sdk := &worker.SDKTask{
			DrainDescriptorID:    s.DrainDescriptor.GetId(),
			Pool:                 pool,
			Subtask:              sub,
			OrderedLists:         orderedLists,
			Timers:               timers,
			StateGC:              gc,
			KeyGroups:            b.g.MaxParallelism,
			KeyLengthPrefixed:    b.g.KeyLengthPrefixed(s.Input),
			KeyGroupRange:        shuffle.KeyGroupRangeFor(sub, s.Parallelism, b.g.MaxParallelism),
			VirtualClock:         b.g.HasTestStream(),
			Drain:                b.drain,
			Name:                 name,
			Worker:               b.workers[s.EnvironmentID],
			DescriptorID:         s.Descriptor.GetId(),
			SourceID:             s.SourceTransformID,
			Input:                main,
			SideInputs:           sides,
			Group:                group,
			Outputs:              sinkOuts,
			Metrics:              b.job.Metrics,
			InputCountedUpstream: b.countedUpstream(s),
			Logger:               b.log,
		}
		if desc, ok := b.native.descriptors[s.ID]; ok {
			nw := b.native.workers[s.EnvironmentID]
			sdk.Worker, sdk.DescriptorID, sdk.GroupInlineBytes = nw, desc, b.native.groupInline(nw)
			// A harness that reads groups from runner state reads them as it iterates.
			sdk.ParkGroupBlocks = sdk.GroupInlineBytes > 0
			sdk.DrainDescriptorID = "" // bounded only (see nativeIneligible): nothing to truncate
		}
		t = b.stateful(s, sub, sdk, func(open func(string) state.Store) {
			sdk.Store, sdk.UserStore = open("main"), open("user")
			if len(timers) > 0 {
				sdk.TimerStore = open("timers")
			}
			if sdk.Group != nil {
				sdk.Group.Store = open("group")
			}
		})
	default:
		return namedTask{}, fmt.Errorf("stage %s: unknown kind %v", s.ID, s.Kind)
	}
	return namedTask{name: name, task: t}, nil
}

// countedUpstream returns the input PCollection of SDK stage s if an SDK stage produces it
// (and so counts its elements already), else "".
func (b *taskBuilder) countedUpstream(s *plan.Stage) string {
	for _, e := range b.g.Edges {
		if e.To == s.ID && e.PCollection == s.Input && e.SideInput == nil && b.g.Stage(e.From).Kind == plan.KindSDK {
			return s.Input
		}
	}
	return ""
}

// stateGC returns the user-state GC of SDK stage s, nil if it has no user state.
func (b *taskBuilder) stateGC(s *plan.Stage) (*worker.StateGC, error) {
	ids := s.UserStateIDs()
	if len(ids) == 0 {
		return nil, nil
	}
	in, err := b.codec(s.Input)
	if err != nil {
		return nil, err
	}
	pc := b.g.Components.GetPcollections()[s.Input]
	strategy, err := window.StrategyFromProto(b.g.Components.GetWindowingStrategies()[pc.GetWindowingStrategyId()])
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", s.ID, err)
	}
	return worker.NewStateGC(strategy, in.WindowCodec(), ids), nil
}

// timerFamilies returns the timer families of SDK stage s with their codecs.
func timerFamilies(g *plan.JobGraph, s *plan.Stage) ([]worker.TimerFamily, error) {
	var out []worker.TimerFamily
	for _, f := range s.TimerFamilies {
		c, err := wire.NewCodec(g.Components, f.CoderID)
		if err != nil {
			return nil, fmt.Errorf("stage %s: timer family %q of %s: %w", s.ID, f.Family, f.TransformID, err)
		}
		tc, ok := c.(*wire.TimerCodec)
		if !ok {
			return nil, fmt.Errorf("stage %s: timer family %q of %s: coder %q is not a timer coder", s.ID, f.Family, f.TransformID, f.CoderID)
		}
		out = append(out, worker.TimerFamily{
			TimerFamilyRef: fnharness.TimerFamilyRef{TransformID: f.TransformID, Family: f.Family},
			Domain:         f.Domain,
			Codec:          tc,
		})
	}
	return out, nil
}

// stateful wraps subtask sub of stage s, whose stores attach sets when it starts.
func (b *taskBuilder) stateful(s *plan.Stage, sub int, t task, attach func(open func(store string) state.Store)) task {
	b.state.tasks.Add(1)
	return &statefulTask{task: t, state: b.state, stage: s.ID, sub: sub, attach: attach}
}

// outputs makes one Output per PCollection the stage produces, writing to every edge that
// reads it.
func (b *taskBuilder) outputs(s *plan.Stage, sub int) (worker.Outputs, error) {
	var outs worker.Outputs
	for _, pc := range s.Outputs {
		var writers []*shuffle.Writer
		keyed := false
		for _, e := range b.g.OutEdges(s.ID) {
			if e.PCollection == pc {
				writers = append(writers, b.exchanges[e].Writer(sub))
				keyed = keyed || e.Partitioning == shuffle.Hash
			}
		}
		c, err := b.codec(pc)
		if err != nil {
			return nil, err
		}
		o, err := worker.NewOutput(pc, c, writers, keyed)
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", s.ID, err)
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// inputs makes the main input gate, which merges every edge that is not a side input
// (several for a Flatten; a chained group's own inputs replace the edge from it), and one
// gate per side input.
func (b *taskBuilder) inputs(s *plan.Stage, sub int) (*shuffle.InputGate, []*worker.SideInputGate, error) {
	inEdges := b.g.InEdges(s.ID)
	if gs := b.chained[s.ID]; gs != nil {
		var edges []*plan.Edge
		for _, e := range inEdges {
			if e.From != gs.ID {
				edges = append(edges, e)
			}
		}
		inEdges = append(edges, b.g.InEdges(gs.ID)...)
	}
	var mainChannels []*shuffle.InputChannel
	sideChannels := map[plan.SideInput][]*shuffle.InputChannel{}
	sideCodecs := map[plan.SideInput]*wire.WindowedValueCodec{}
	var sideOrder []plan.SideInput
	for _, e := range inEdges {
		chans := b.exchanges[e].Channels(sub)
		if e.SideInput == nil {
			mainChannels = append(mainChannels, chans...)
			continue
		}
		// A Flatten feeding a side input is several edges into one side input.
		si := sideInputOf(s, e.SideInput)
		if _, seen := sideChannels[si]; !seen {
			sideOrder = append(sideOrder, si)
			c, err := b.codec(e.PCollection)
			if err != nil {
				return nil, nil, err
			}
			sideCodecs[si] = c
		}
		sideChannels[si] = append(sideChannels[si], chans...)
	}
	var sides []*worker.SideInputGate
	for _, si := range sideOrder {
		sides = append(sides, &worker.SideInputGate{Input: si, Gate: shuffle.NewInputGate(sideChannels[si]...), Codec: sideCodecs[si]})
	}
	return shuffle.NewInputGate(mainChannels...), sides, nil
}

// chainedGroups finds GroupByKey stages that can run inside their consumer's task: the
// group's only output edge is a Forward edge into an SDK stage of the same parallelism
// whose only main input it is. Chaining saves a hop and lets large groups stay in the
// store, read by the SDK through runner state. It maps consumer stage id -> group stage.
func chainedGroups(g *plan.JobGraph) map[string]*plan.Stage {
	out := map[string]*plan.Stage{}
	for _, s := range g.Stages {
		if s.Kind != plan.KindGroupByKey {
			continue
		}
		outs := g.OutEdges(s.ID)
		if len(outs) != 1 || outs[0].Partitioning != shuffle.Forward || outs[0].SideInput != nil {
			continue
		}
		to := g.Stage(outs[0].To)
		if to.Kind != plan.KindSDK || to.Parallelism != s.Parallelism {
			continue
		}
		mains := 0
		for _, e := range g.InEdges(to.ID) {
			if e.SideInput == nil {
				mains++
			}
		}
		if mains == 1 {
			out[to.ID] = s
		}
	}
	return out
}

func isChained(chained map[string]*plan.Stage, s *plan.Stage) bool {
	for _, gs := range chained {
		if gs == s {
			return true
		}
	}
	return false
}

func groupBuffer(g *plan.JobGraph, s *plan.Stage, codec func(string) (*wire.WindowedValueCodec, error)) (*worker.GroupBuffer, error) {
	in, err := codec(s.Input)
	if err != nil {
		return nil, err
	}
	if len(s.Outputs) != 1 {
		return nil, fmt.Errorf("stage %s: a GroupByKey needs exactly one consumed output, has %d", s.ID, len(s.Outputs))
	}
	out, err := codec(s.Outputs[0])
	if err != nil {
		return nil, err
	}
	strategy, err := window.StrategyFromProto(g.Components.GetWindowingStrategies()[s.WindowingStrategyID])
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", s.ID, err)
	}
	return &worker.GroupBuffer{InCodec: in, OutCodec: out, Strategy: strategy, VirtualClock: g.HasTestStream()}, nil
}

// sideInputOf returns the stage's description of the side input an edge feeds (it carries
// the PCollection id the SDK decodes with).
func sideInputOf(s *plan.Stage, ref *plan.SideInput) plan.SideInput {
	for _, si := range s.SideInputs {
		if si.TransformID == ref.TransformID && si.LocalName == ref.LocalName {
			return si
		}
	}
	return *ref
}

func stageName(g *plan.JobGraph, s *plan.Stage) string {
	names := make([]string, 0, len(s.Transforms))
	for _, id := range s.Transforms {
		if t := g.Components.GetTransforms()[id]; t != nil && t.GetUniqueName() != "" {
			names = append(names, t.GetUniqueName())
		} else {
			names = append(names, id)
		}
	}
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("+%d", len(names)-3))
	}
	return strings.Join(names, ", ")
}

// describeGraph is the job message that shows how the job was planned.
// sdkStageFingerprint is the fingerprint sluicegen writes for an SDK stage
// (codegen/fingerprint), so that a user can compare it with a generated file's header.
// Whether the stage runs natively is decided once the workers are up (see native.go).
func sdkStageFingerprint(g *plan.JobGraph, s *plan.Stage) string {
	fp, err := fingerprint.Of(g.Components, fingerprint.Stage{Transforms: s.Transforms, Input: s.Input, Outputs: s.Outputs})
	if err != nil {
		return "no fingerprint: " + err.Error()
	}
	return "fingerprint " + fp
}

func describeGraph(g *plan.JobGraph, chained map[string]*plan.Stage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan: %d stages, %d edges", len(g.Stages), len(g.Edges))
	for _, s := range g.Stages {
		fmt.Fprintf(&b, "\n  %s %s x%d: %s", s.ID, s.Kind, s.Parallelism, stageName(g, s))
		if gs := chained[s.ID]; gs != nil {
			fmt.Fprintf(&b, " (runs %s in the same task)", gs.ID)
		}
		if s.Kind == plan.KindSDK {
			b.WriteString(" [" + sdkStageFingerprint(g, s) + "]")
		}
	}
	for _, e := range g.Edges {
		kind := e.Partitioning.String()
		if e.SideInput != nil {
			kind += " (side input " + e.SideInput.LocalName + ")"
		}
		fmt.Fprintf(&b, "\n  %s -> %s %s", e.From, e.To, kind)
	}
	return b.String()
}
