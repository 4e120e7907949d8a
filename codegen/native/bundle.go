package native

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/metricsx"
	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/codegen/rt"
	"github.com/sluice-runner/sluice/runner/wire"
)

// processBundle runs one bundle: the input's blocks through a stage instance, outputs
// back in blocks, an is_last per sink, and element counts in the response.
func (h *Harness) processBundle(ctx context.Context, id string, req *fnpb.ProcessBundleRequest) (*fnpb.ProcessBundleResponse, error) {
	in := h.inbox.get(id)
	defer h.inbox.drop(id)
	p, err := h.pool(ctx, req.GetProcessBundleDescriptorId())
	if err != nil {
		return nil, err
	}
	stage, err := p.get()
	if err != nil {
		return nil, fmt.Errorf("stage %s: setting up its chain: %w", p.spec.Name, err)
	}
	outs := make([]*rt.Output, len(p.spec.Sinks))
	for i, sink := range p.spec.Sinks {
		outs[i] = rt.NewOutput(func(b []byte) error {
			return h.data.Send(&fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: id, TransformId: sink, Data: b}}})
		})
	}
	// The bundle's context carries a metrics store, as the SDK harness's does: user
	// metrics the DoFns update are reported with the bundle's response.
	// Side inputs and user state are read under the bundle's instruction id
	// (rt.SideInputReader, rt.UserStateReader). The metrics context goes outermost: the
	// SDK's metrics find their store by asserting the context's type, not through Value.
	sctx := rt.WithSideInputs(ctx, bundleSideInputs{c: h.state, instruction: id})
	sctx = rt.WithUserState(sctx, bundleUserState{c: h.state, instruction: id})
	sctx = rt.WithGroupState(sctx, bundleGroupState{c: h.state, instruction: id})
	bctx := metrics.SetBundleID(sctx, id)
	var bundle rt.Bundle
	count, timers, err := runBundle(bctx, stage, in, p.input, outs, func(b rt.Bundle) func() {
		bundle = b
		return h.trackSplitter(id, b)
	})
	if err != nil {
		// A chain that failed mid-bundle may hold partial state: tear it down.
		_ = stage.Teardown()
		return nil, fmt.Errorf("stage %s: %w", p.spec.Name, err)
	}
	p.put(stage)
	last := make([]*fnpb.Elements_Data, len(p.spec.Sinks))
	for i, sink := range p.spec.Sinks {
		last[i] = &fnpb.Elements_Data{InstructionId: id, TransformId: sink, IsLast: true}
	}
	// The timers the bundle set, each family's ended, as the SDK harness answers every
	// family the runner closed.
	var ts []*fnpb.Elements_Timers
	for _, t := range timers {
		ts = append(ts, &fnpb.Elements_Timers{InstructionId: id, TransformId: t.TransformID, TimerFamilyId: t.Family, Timers: t.Data, IsLast: true})
	}
	if err := h.data.Send(&fnpb.Elements{Data: last, Timers: ts}); err != nil {
		return nil, fmt.Errorf("stage %s: closing its outputs: %w", p.spec.Name, err)
	}
	infos := []*pipepb.MonitoringInfo{elementCount(p.spec.Input, count)}
	for i, o := range outs {
		infos = append(infos, elementCount(p.spec.Outputs[i], o.Count()))
	}
	infos = append(infos, p.innerCounts(bundle)...)
	user, err := userMetrics(metrics.GetStore(bctx))
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", p.spec.Name, err)
	}
	return &fnpb.ProcessBundleResponse{MonitoringInfos: append(infos, user...)}, nil
}

// userMetrics turns the bundle's user metrics into monitoring infos, as the SDK harness
// reports them.
func userMetrics(store *metrics.Store) ([]*pipepb.MonitoringInfo, error) {
	if store == nil {
		return nil, nil
	}
	var infos []*pipepb.MonitoringInfo
	var errs []error
	add := func(urn metricsx.Urn, l metrics.Labels, payload []byte, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		infos = append(infos, &pipepb.MonitoringInfo{Urn: metricsx.UrnToString(urn), Type: metricsx.UrnToType(urn), Labels: l.Map(), Payload: payload})
	}
	err := metrics.Extractor{
		SumInt64: func(l metrics.Labels, v int64) {
			b, err := metricsx.Int64Counter(v)
			add(metricsx.UrnUserSumInt64, l, b, err)
		},
		DistributionInt64: func(l metrics.Labels, count, sum, min, max int64) {
			b, err := metricsx.Int64Distribution(count, sum, min, max)
			add(metricsx.UrnUserDistInt64, l, b, err)
		},
		GaugeInt64: func(l metrics.Labels, v int64, t time.Time) {
			b, err := metricsx.Int64Latest(t, v)
			add(metricsx.UrnUserLatestMsInt64, l, b, err)
		},
	}.ExtractFrom(store)
	if err := errors.Join(append(errs, err)...); err != nil {
		return nil, fmt.Errorf("reporting user metrics: %w", err)
	}
	return infos, nil
}

// runBundle feeds every input element, and every timer the runner fires, to a bundle of
// stage, read as input says, and returns how many elements there were and the timers the
// bundle set. started is told of the bundle while it runs (for splits) and
// returns its undo. Data blocks are a byte stream: an element cut at a block's end (a hot
// key's group comes in pieces) is completed from the blocks after it, cut by the input's
// wire codec.
func runBundle(ctx context.Context, stage rt.Stage, in *inbox, input *bundleInput, outs []*rt.Output, started func(rt.Bundle) func()) (int64, []rt.TimerOutput, error) {
	b, err := stage.StartBundle(ctx, outs)
	if err != nil {
		return 0, nil, fmt.Errorf("starting a bundle: %w", err)
	}
	defer started(b)()
	grouped := input.grouped
	if _, ok := b.(rt.GroupStateBundle); ok {
		grouped = nil // the chain reads state-backed groups itself
	}
	var count int64
	process := func(elem []byte) error { // one whole element
		if grouped != nil {
			var err error
			if elem, err = grouped.inlined(ctx, elem); err != nil {
				return fmt.Errorf("input element %d: %w", count, err)
			}
		}
		hdr, n, err := input.header(elem)
		if err != nil {
			return fmt.Errorf("input element %d: %w", count, err)
		}
		m, err := b.Process(hdr, elem[n:])
		if err != nil {
			return fmt.Errorf("input element %d: %w", count, err)
		}
		if n+m != len(elem) {
			return fmt.Errorf("input element %d: %d bytes decoded of %d", count, n+m, len(elem))
		}
		count++
		return nil
	}
	var carried *wire.ElementReader // set while an element cut at a block's end is completed
	for {
		blk, last, err := in.take(ctx)
		if err != nil {
			return count, nil, err
		}
		if t := blk.timers; t != nil {
			tb, ok := b.(rt.TimerBundle)
			if !ok {
				return count, nil, fmt.Errorf("timers for family %q of transform %q, and the stage has none", t.family, t.transform)
			}
			if err := tb.ProcessTimers(t.transform, t.family, t.data); err != nil {
				return count, nil, fmt.Errorf("firing timers of family %q: %w", t.family, err)
			}
		}
		block := blk.data
		if carried != nil && len(block) > 0 {
			rest, done, err := carried.CompleteCarry(block, process)
			if err != nil {
				return count, nil, err
			}
			if done {
				carried, block = nil, rest
			} else {
				block = nil
			}
		}
		for len(block) > 0 {
			if grouped != nil {
				size, err := grouped.stateBacked(block)
				if err == nil && size > 0 {
					if err := process(block[:size]); err != nil {
						return count, nil, err
					}
					block = block[size:]
					continue
				}
				if err != nil {
					if carried, err = input.cut(block, err); err != nil {
						return count, nil, fmt.Errorf("input element %d: %w", count, err)
					}
					break
				}
			}
			hdr, n, err := input.header(block)
			m := 0
			if err == nil {
				m, err = b.Process(hdr, block[n:])
			}
			if err != nil {
				if carried, err = input.cut(block, err); err != nil {
					return count, nil, fmt.Errorf("input element %d: %w", count, err)
				}
				break
			}
			block = block[n+m:]
			count++
		}
		if last {
			break
		}
	}
	if carried != nil {
		if err := carried.End(process); err != nil {
			return count, nil, fmt.Errorf("input element %d: %w", count, err)
		}
	}
	if err := b.Finish(); err != nil {
		return count, nil, fmt.Errorf("finishing the bundle: %w", err)
	}
	for _, o := range outs {
		if err := o.Flush(); err != nil {
			return count, nil, fmt.Errorf("sending output: %w", err)
		}
	}
	var timers []rt.TimerOutput
	if tb, ok := b.(rt.TimerBundle); ok {
		if timers, err = tb.Timers(); err != nil {
			return count, nil, fmt.Errorf("encoding the timers set: %w", err)
		}
	}
	return count, timers, nil
}

// innerCounts are the element counts of the PCollections inside the chain, by the ids
// the runner's descriptor gives them (the input and outputs are counted by the harness).
func (p *stagePool) innerCounts(b rt.Bundle) []*pipepb.MonitoringInfo {
	c, ok := b.(rt.PCollectionCounter)
	if !ok {
		return nil
	}
	var infos []*pipepb.MonitoringInfo
	for _, pc := range c.PCollectionCounts() {
		id := p.env.byName[pc.Transform].GetOutputs()[pc.Output]
		if id == "" || id == p.spec.Input || slices.Contains(p.spec.Outputs, id) {
			continue
		}
		infos = append(infos, elementCount(id, pc.Count))
	}
	return infos
}

func elementCount(pcoll string, n int64) *pipepb.MonitoringInfo {
	return &pipepb.MonitoringInfo{
		Urn:     "beam:metric:element_count:v1",
		Type:    "beam:metrics:sum_int64:v1",
		Labels:  map[string]string{"PCOLLECTION": pcoll},
		Payload: wire.AppendVarInt(nil, n),
	}
}

// inboxes are the input queues of bundles by instruction id. Data may arrive before the
// ProcessBundle request that names it, so either side creates the inbox.
type inboxes struct {
	mu     sync.Mutex
	byID   map[string]*inbox
	closed error
}

func (b *inboxes) init() { b.byID = map[string]*inbox{} }

func (b *inboxes) get(id string) *inbox {
	b.mu.Lock()
	defer b.mu.Unlock()
	in := b.byID[id]
	if in == nil {
		in = &inbox{ready: make(chan struct{}, 1), err: b.closed}
		b.byID[id] = in
	}
	return in
}

func (b *inboxes) drop(id string) {
	b.mu.Lock()
	delete(b.byID, id)
	b.mu.Unlock()
}

// closeAll fails every inbox, present and future, with err.
func (b *inboxes) closeAll(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = err
	for _, in := range b.byID {
		in.fail(err)
	}
}

// inbox is one bundle's input: an unbounded queue of blocks (the runner bounds a bundle's
// size), filled by the data receive loop and drained by the bundle's goroutine.
type inbox struct {
	mu     sync.Mutex
	blocks []block
	last   bool
	err    error
	ready  chan struct{} // signalled after each put
}

// block is a block of input elements, or of timers the runner fires.
type block struct {
	data   []byte
	timers *timerChunk
}

// timerChunk is encoded timers of one timer family of one transform.
type timerChunk struct {
	transform, family string
	data              []byte
}

func (in *inbox) put(b []byte, last bool) {
	in.mu.Lock()
	if len(b) > 0 {
		in.blocks = append(in.blocks, block{data: b})
	}
	in.last = in.last || last
	in.mu.Unlock()
	in.signal()
}

// putTimers queues timers to fire. Their is_last markers end nothing: a bundle ends
// with its data input's.
func (in *inbox) putTimers(transform, family string, data []byte) {
	if len(data) == 0 {
		return
	}
	in.mu.Lock()
	in.blocks = append(in.blocks, block{timers: &timerChunk{transform: transform, family: family, data: data}})
	in.mu.Unlock()
	in.signal()
}

func (in *inbox) fail(err error) {
	in.mu.Lock()
	if in.err == nil {
		in.err = err
	}
	in.mu.Unlock()
	in.signal()
}

func (in *inbox) signal() {
	select {
	case in.ready <- struct{}{}:
	default:
	}
}

// take returns the next block, and whether it is the last one.
func (in *inbox) take(ctx context.Context) (block, bool, error) {
	for {
		in.mu.Lock()
		if len(in.blocks) > 0 {
			b := in.blocks[0]
			in.blocks[0] = block{}
			in.blocks = in.blocks[1:]
			last := in.last && len(in.blocks) == 0
			in.mu.Unlock()
			return b, last, nil
		}
		if in.last {
			in.mu.Unlock()
			return block{}, true, nil
		}
		if in.err != nil {
			err := in.err
			in.mu.Unlock()
			return block{}, false, err
		}
		in.mu.Unlock()
		select {
		case <-in.ready:
		case <-ctx.Done():
			return block{}, false, ctx.Err()
		}
	}
}

// bundleInput is how a stage's bundles read their input port.
type bundleInput struct {
	// header decodes an element's windowed-value header, as the port's window coder has it.
	header func([]byte) (rt.Header, int, error)
	// codec cuts the port's byte stream into elements; it is nil, with codecErr saying
	// why, if the runner's coder for the port is one the wire package does not know.
	codec    *wire.WindowedValueCodec
	codecErr error
	// grouped finds the groups of a stage input of groups that continue in runner state
	// (nil for other inputs).
	grouped *groupedInput
}

// cut is told that decoding the element at the start of block failed with err. If block
// holds only the start of the element (it continues in the next block), cut returns a
// reader carrying it; otherwise err stands. Decoding runs before any user code, so
// nothing has seen the cut element yet.
func (in *bundleInput) cut(block []byte, err error) (*wire.ElementReader, error) {
	if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if in.codec == nil {
		return nil, fmt.Errorf("%w (and the element cannot be completed from the next block: %w)", err, in.codecErr)
	}
	if _, serr := in.codec.Skip(block); serr != io.ErrUnexpectedEOF {
		return nil, err // whole, or malformed: the decoding error says what is wrong
	}
	r := wire.NewElementReader(in.codec)
	r.Carry(block)
	return r, nil
}
