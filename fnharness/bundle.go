package fnharness

import (
	"context"
	"errors"
	"fmt"
	"sync"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
)

// MaxElementsBatch is the number of input bytes a bundle buffers before it sends
// them to the worker as one Elements message.
const MaxElementsBatch = 1 << 20

// batchBuffers recycles the data buffers of sent Elements messages: gRPC has
// marshalled a message by the time Send returns, and growing a fresh buffer to
// MaxElementsBatch for every message was a large share of the runner's CPU.
var batchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, MaxElementsBatch+MaxElementsBatch/4); return &b }}

func batchBuffer(first []byte) []byte {
	return append((*batchBuffers.Get().(*[]byte))[:0], first...)
}

func recycleBatchBuffer(b []byte) {
	if cap(b) >= MaxElementsBatch && cap(b) <= 4*MaxElementsBatch {
		b = b[:0]
		batchBuffers.Put(&b)
	}
}

// StateHandler serves the Fn API state requests of one bundle. It is called on
// its own goroutine; ctx ends when the bundle ends. The response id is set by
// the caller; a nil response is reported to the SDK as an error.
type StateHandler interface {
	HandleState(ctx context.Context, req *fnpb.StateRequest) *fnpb.StateResponse
}

// TimerFamilyRef names one timer family of one transform.
type TimerFamilyRef struct {
	TransformID string
	Family      string
}

// Output is one chunk the SDK sent for a bundle: encoded elements of a sink
// transform, or encoded timers of a timer family. IsLast marks the end of that
// transform's (or family's) output; its Data may be empty.
type Output struct {
	TransformID string
	TimerFamily string // empty for data
	Data        []byte
	IsLast      bool
}

// BundleOption configures StartBundle.
type BundleOption interface{ applyBundle(*bundleOptions) }

type bundleOptions struct {
	expect      *ExpectOutputs
	cacheTokens []*fnpb.ProcessBundleRequest_CacheToken
}

// ExpectOutputs lists the outputs whose is_last the bundle waits for before it is
// done. Without it, a bundle waits for every beam:runner:sink:v1 transform of its
// descriptor and no timer family. Output that arrives after the bundle is done
// (from an output not listed here) is dropped.
type ExpectOutputs struct {
	Transforms []string
	Timers     []TimerFamilyRef
}

func (e ExpectOutputs) applyBundle(o *bundleOptions) { o.expect = &e }

// CacheTokens are sent in the ProcessBundleRequest (side-input caching).
type CacheTokens []*fnpb.ProcessBundleRequest_CacheToken

func (c CacheTokens) applyBundle(o *bundleOptions) { o.cacheTokens = c }

type outKey struct{ transform, family string }

// Bundle is one ProcessBundle instruction in flight on a worker.
type Bundle struct {
	w      *Worker
	id     string
	descID string
	state  StateHandler

	ctx       context.Context // ends when the bundle ends
	cancel    context.CancelFunc
	stopAfter func() bool // unregisters the caller-ctx watch

	inMu    sync.Mutex // guards the input batch
	batch   *fnpb.Elements
	batchSz int
	closed  bool

	mu       sync.Mutex
	outputs  []Output
	avail    chan struct{} // capacity 1
	expected map[outKey]bool
	respGot  bool
	resp     *fnpb.ProcessBundleResponse
	err      error
	finished bool
	done     chan struct{}
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// StartBundle sends a ProcessBundleRequest for a registered descriptor. Canceling
// ctx fails the bundle and releases everything it holds (the SDK is not told;
// stop the worker if it must not keep running the bundle).
func (w *Worker) StartBundle(ctx context.Context, descriptorID string, state StateHandler, opts ...BundleOption) (*Bundle, error) {
	var o bundleOptions
	for _, opt := range opts {
		opt.applyBundle(&o)
	}
	id := w.srv.newInstructionID()
	bctx, cancel := context.WithCancel(ctx)
	b := &Bundle{
		w: w, id: id, descID: descriptorID, state: state,
		ctx: bctx, cancel: cancel,
		batch:    &fnpb.Elements{},
		avail:    make(chan struct{}, 1),
		expected: make(map[outKey]bool),
		done:     make(chan struct{}),
	}

	w.mu.Lock()
	if w.cause != nil {
		w.mu.Unlock()
		cancel()
		return nil, fmt.Errorf("fnharness: starting a bundle: %w", w.Err())
	}
	desc := w.descs[descriptorID]
	if desc == nil {
		w.mu.Unlock()
		cancel()
		return nil, fmt.Errorf("fnharness: starting a bundle on worker %s: descriptor %q is not registered", w.id, descriptorID)
	}
	if o.expect != nil {
		for _, t := range o.expect.Transforms {
			b.expected[outKey{transform: t}] = true
		}
		for _, t := range o.expect.Timers {
			b.expected[outKey{transform: t.TransformID, family: t.Family}] = true
		}
	} else {
		for _, t := range sinkTransforms(desc) {
			b.expected[outKey{transform: t}] = true
		}
	}
	ctrl := w.ctrl
	if ctrl == nil {
		w.mu.Unlock()
		cancel()
		return nil, fmt.Errorf("fnharness: starting a bundle: worker %s has no control stream", w.id)
	}
	w.bundles[id] = b
	w.pending[id] = b.onResponse
	w.mu.Unlock()

	b.stopAfter = context.AfterFunc(bctx, func() {
		b.finish(fmt.Errorf("bundle %s canceled by the runner: %w", id, context.Cause(bctx)))
	})
	err := ctrl.Send(&fnpb.InstructionRequest{
		InstructionId: id,
		Request: &fnpb.InstructionRequest_ProcessBundle{ProcessBundle: &fnpb.ProcessBundleRequest{
			ProcessBundleDescriptorId: descriptorID,
			CacheTokens:               o.cacheTokens,
		}},
	})
	if err != nil {
		err = fmt.Errorf("fnharness: sending ProcessBundle %s to worker %s: %w", id, w.id, err)
		b.finish(err)
		return nil, err
	}
	return b, nil
}

// InstructionID is the bundle's unique instruction id.
func (b *Bundle) InstructionID() string { return b.id }

// DescriptorID is the ProcessBundleDescriptor the bundle runs.
func (b *Bundle) DescriptorID() string { return b.descID }

// Send queues encoded elements (whole elements, in the port's windowed-value
// coder) for a source transform. Batches of about MaxElementsBatch are sent as
// one Elements message; data is copied, or, when larger than a batch, sent as a
// message of its own before Send returns (a hot key's group is not copied once
// more). Send may block on the data stream's flow control; it fails once the
// bundle ended.
func (b *Bundle) Send(transformID string, data []byte) error {
	return b.queue(transformID, "", data)
}

// SendTimers queues encoded timers for a timer family of a transform.
func (b *Bundle) SendTimers(transformID, family string, data []byte) error {
	return b.queue(transformID, family, data)
}

func (b *Bundle) queue(transformID, family string, data []byte) error {
	b.inMu.Lock()
	defer b.inMu.Unlock()
	if b.closed {
		return fmt.Errorf("fnharness: bundle %s: input already closed", b.id)
	}
	if err := b.endedErr(); err != nil {
		return err
	}
	if family == "" && len(data) > MaxElementsBatch {
		return b.sendLargeLocked(transformID, data)
	}
	if family == "" {
		n := len(b.batch.Data)
		if n > 0 && b.batch.Data[n-1].TransformId == transformID {
			b.batch.Data[n-1].Data = append(b.batch.Data[n-1].Data, data...)
		} else {
			b.batch.Data = append(b.batch.Data, &fnpb.Elements_Data{
				InstructionId: b.id, TransformId: transformID, Data: batchBuffer(data),
			})
		}
	} else {
		n := len(b.batch.Timers)
		if n > 0 && b.batch.Timers[n-1].TransformId == transformID && b.batch.Timers[n-1].TimerFamilyId == family {
			b.batch.Timers[n-1].Timers = append(b.batch.Timers[n-1].Timers, data...)
		} else {
			b.batch.Timers = append(b.batch.Timers, &fnpb.Elements_Timers{
				InstructionId: b.id, TransformId: transformID, TimerFamilyId: family, Timers: append([]byte(nil), data...),
			})
		}
	}
	b.batchSz += len(data)
	if b.batchSz >= MaxElementsBatch {
		return b.flushLocked()
	}
	return nil
}

// Flush sends what Send and SendTimers queued so far. Note that the Go SDK
// processes the timers of one Elements message before its data.
func (b *Bundle) Flush() error {
	b.inMu.Lock()
	defer b.inMu.Unlock()
	if len(b.batch.Data) == 0 && len(b.batch.Timers) == 0 {
		return nil
	}
	return b.flushLocked()
}

// sendLargeLocked sends what is queued, then data in a message of its own. gRPC has
// marshalled the message when Send returns, so data need not be copied.
func (b *Bundle) sendLargeLocked(transformID string, data []byte) error {
	if len(b.batch.Data) > 0 || len(b.batch.Timers) > 0 {
		if err := b.flushLocked(); err != nil {
			return err
		}
	}
	msg := &fnpb.Elements{Data: []*fnpb.Elements_Data{{InstructionId: b.id, TransformId: transformID, Data: data}}}
	if err := b.w.sendData(b.ctx, msg); err != nil {
		return fmt.Errorf("fnharness: bundle %s: sending input: %w", b.id, err)
	}
	return nil
}

func (b *Bundle) flushLocked() error {
	msg := b.batch
	b.batch = &fnpb.Elements{}
	b.batchSz = 0
	err := b.w.sendData(b.ctx, msg)
	for _, d := range msg.Data {
		recycleBatchBuffer(d.Data)
	}
	if err != nil {
		return fmt.Errorf("fnharness: bundle %s: sending input: %w", b.id, err)
	}
	return nil
}

// CloseInput sends what is queued plus the end of every data input and every timer
// family, all in one Elements message. The Go SDK closes a bundle's input after exactly
// 1 + (transforms with timers) is_last markers, counted per transform, not per family;
// if the whole input arrives before its data source opens, any more than that leaves
// the bundle waiting forever. So only the first family of each transform gets is_last;
// the others get an empty entry, which still makes the SDK open their timer output and
// end it with an is_last of its own.
func (b *Bundle) CloseInput(inputTransformIDs []string, timerFamilies []TimerFamilyRef) error {
	b.inMu.Lock()
	defer b.inMu.Unlock()
	if b.closed {
		return fmt.Errorf("fnharness: bundle %s: input already closed", b.id)
	}
	b.closed = true
	for _, t := range inputTransformIDs {
		b.batch.Data = append(b.batch.Data, &fnpb.Elements_Data{InstructionId: b.id, TransformId: t, IsLast: true})
	}
	ended := map[string]bool{}
	for _, t := range timerFamilies {
		b.batch.Timers = append(b.batch.Timers, &fnpb.Elements_Timers{
			InstructionId: b.id, TransformId: t.TransformID, TimerFamilyId: t.Family, IsLast: !ended[t.TransformID],
		})
		ended[t.TransformID] = true
	}
	return b.flushLocked()
}

// sendData sends msg on the worker's data stream, waiting for the SDK to open it.
func (w *Worker) sendData(ctx context.Context, msg *fnpb.Elements) error {
	for {
		w.mu.Lock()
		data, ready, cause := w.data, w.dataReady, w.cause
		w.mu.Unlock()
		if cause != nil {
			return w.Err()
		}
		if data != nil {
			err := data.Send(msg)
			if errors.Is(err, errStreamClosed) {
				continue // detached meanwhile; wait for the next stream or the end
			}
			return err
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return ctx.Err()
		case <-w.done:
		}
	}
}

func (b *Bundle) endedErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished && b.err != nil {
		return b.err
	}
	return nil
}

func (b *Bundle) signal() {
	select {
	case b.avail <- struct{}{}:
	default:
	}
}

func (b *Bundle) addOutput(o Output) {
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		return
	}
	if len(o.Data) > 0 || o.IsLast {
		b.outputs = append(b.outputs, o)
	}
	if o.IsLast {
		delete(b.expected, outKey{transform: o.TransformID, family: o.TimerFamily})
	}
	complete := b.respGot && len(b.expected) == 0
	b.mu.Unlock()
	b.signal()
	if complete {
		b.finish(nil)
	}
}

// onResponse receives the bundle's InstructionResponse (or the worker's end).
func (b *Bundle) onResponse(resp *fnpb.InstructionResponse, err error) {
	if err == nil && resp.GetError() != "" {
		err = fmt.Errorf("SDK worker %s failed bundle %s (descriptor %q): %s", b.w.id, b.id, b.descID, resp.GetError())
	}
	if err != nil {
		b.finish(err)
		return
	}
	pbr := resp.GetProcessBundle()
	if pbr == nil {
		pbr = &fnpb.ProcessBundleResponse{}
	}
	b.mu.Lock()
	b.respGot, b.resp = true, pbr
	complete := len(b.expected) == 0
	b.mu.Unlock()
	if complete {
		b.finish(nil)
	}
}

// finish ends the bundle once: with err, or successfully with the response.
func (b *Bundle) finish(err error) {
	b.mu.Lock()
	if b.finished {
		b.mu.Unlock()
		return
	}
	b.finished = true
	b.err = err
	close(b.done)
	b.mu.Unlock()
	b.signal()
	if b.stopAfter != nil {
		b.stopAfter()
	}
	b.cancel()
	b.w.mu.Lock()
	if b.w.bundles[b.id] == b {
		delete(b.w.bundles, b.id)
	}
	if err != nil {
		delete(b.w.pending, b.id) // a late response has nobody to go to
	}
	b.w.mu.Unlock()
}

// Outputs takes everything the SDK sent for this bundle so far; it never blocks.
func (b *Bundle) Outputs() []Output {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.outputs
	b.outputs = nil
	return out
}

// Available is ready when Outputs may return something or the bundle finished.
func (b *Bundle) Available() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return closedChan
	}
	return b.avail
}

// Done is closed when the ProcessBundleResponse arrived and every expected
// output sent is_last, or as soon as the bundle failed.
func (b *Bundle) Done() <-chan struct{} { return b.done }

// Result is the bundle's response once Done is closed. The error carries the
// SDK's error text, or why the worker or stream was lost (with its log lines).
func (b *Bundle) Result() (*fnpb.ProcessBundleResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.finished {
		return nil, fmt.Errorf("fnharness: bundle %s has not finished", b.id)
	}
	if b.err != nil {
		return nil, b.err
	}
	return b.resp, nil
}

// Split asks the SDK to split the bundle; req.InstructionId is set to the bundle's.
func (b *Bundle) Split(ctx context.Context, req *fnpb.ProcessBundleSplitRequest) (*fnpb.ProcessBundleSplitResponse, error) {
	r := &fnpb.ProcessBundleSplitRequest{InstructionId: b.id, DesiredSplits: req.GetDesiredSplits()}
	resp, err := b.w.call(ctx, &fnpb.InstructionRequest{Request: &fnpb.InstructionRequest_ProcessBundleSplit{ProcessBundleSplit: r}})
	if err != nil {
		return nil, fmt.Errorf("fnharness: splitting bundle %s: %w", b.id, err)
	}
	return resp.GetProcessBundleSplit(), nil
}

// Progress asks the SDK for the bundle's progress (full monitoring infos).
func (b *Bundle) Progress(ctx context.Context) (*fnpb.ProcessBundleProgressResponse, error) {
	resp, err := b.w.call(ctx, &fnpb.InstructionRequest{Request: &fnpb.InstructionRequest_ProcessBundleProgress{
		ProcessBundleProgress: &fnpb.ProcessBundleProgressRequest{InstructionId: b.id},
	}})
	if err != nil {
		return nil, fmt.Errorf("fnharness: progress of bundle %s: %w", b.id, err)
	}
	return resp.GetProcessBundleProgress(), nil
}

func (b *Bundle) handleState(req *fnpb.StateRequest) *fnpb.StateResponse {
	resp := b.state.HandleState(b.ctx, req)
	if resp == nil {
		resp = &fnpb.StateResponse{Error: fmt.Sprintf("fnharness: no state response for instruction %q", req.GetInstructionId())}
	}
	resp.Id = req.GetId()
	return resp
}
