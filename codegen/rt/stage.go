package rt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime"

	"github.com/sluice-runner/sluice/runner/wire"
)

// Header is the windowed-value header of an element: its event time (milliseconds), pane
// and windows (GlobalWindow, the zero value, in a global-window stage). A chain passes its
// input's header on to what each element produces, as the Go SDK does for a DoFn's
// outputs.
type Header struct {
	Timestamp int64
	Pane      wire.PaneInfo
	Windows   Windows
}

// DecodeGlobalHeader decodes the header of a windowed value in the global window and says
// how many bytes it took. An element in any other windows, or in more than one, is an
// error: native chains run only global-window stages (sluicegen checks the windowing, so
// this guards against a runner sending what the stage's coder does not say).
func DecodeGlobalHeader(b []byte) (Header, int, error) {
	ts, n, err := wire.DecodeInstant(b)
	if err != nil {
		return Header{}, 0, malformedHeader(err)
	}
	if len(b) < n+4 {
		return Header{}, 0, malformedHeader(io.ErrUnexpectedEOF)
	}
	if c := int32(binary.BigEndian.Uint32(b[n:])); c != 1 {
		return Header{}, 0, fmt.Errorf("%w: a native stage's element is in %d windows, want the global window only", wire.ErrMalformed, c)
	}
	n += 4
	p, m, err := wire.DecodePane(b[n:])
	if err != nil {
		return Header{}, 0, malformedHeader(err)
	}
	return Header{Timestamp: ts, Pane: p}, n + m, nil
}

func malformedHeader(err error) error {
	if errors.Is(err, wire.ErrMalformed) {
		return err
	}
	// Short input stays an io.ErrUnexpectedEOF too: the harness completes an element cut
	// at a block's end from the next block.
	return fmt.Errorf("%w: windowed-value header: %w", wire.ErrMalformed, err)
}

// AppendGlobalHeader appends the header of a windowed value in the global window
// (whatever h.Windows says).
func AppendGlobalHeader(dst []byte, h Header) []byte {
	dst = wire.AppendInstant(dst, h.Timestamp)
	dst = binary.BigEndian.AppendUint32(dst, 1)
	return wire.AppendPane(dst, h.Pane)
}

// AppendHeader appends the header of a windowed value in h.Windows: the global window's
// header, or the interval windows' as Beam's interval window coder writes them. Each
// PCollection is in one or the other (sluicegen checks its windowing strategy, and only
// WindowInto changes windows), so the header is what the port's window coder writes.
func AppendHeader(dst []byte, h Header) []byte {
	if h.Windows == GlobalWindow {
		return AppendGlobalHeader(dst, h)
	}
	dst = wire.AppendInstant(dst, h.Timestamp)
	dst = append(dst, h.Windows...)
	return wire.AppendPane(dst, h.Pane)
}

// OutputFlushBytes is how much an Output buffers before it hands its bytes on.
const OutputFlushBytes = 256 << 10

// Output is one output of a native stage: the chain appends each element, header and
// value, to Buf between Begin and End, and the harness sends the bytes on in blocks.
// Emitters have no error result, so a failed send is kept and the chain checks Err
// after each input element.
type Output struct {
	buf   []byte
	count int64
	flush func([]byte) error
	err   error
}

// NewOutput returns an Output that passes full blocks to flush. flush must not keep
// the slice after it returns.
func NewOutput(flush func([]byte) error) *Output { return &Output{flush: flush} }

// Begin starts an element with header h and returns the buffer to append its value to.
func (o *Output) Begin(h Header) []byte { return AppendHeader(o.buf, h) }

// End takes back the buffer Begin returned, with the element's value appended.
func (o *Output) End(b []byte) {
	o.buf = b
	o.count++
	if len(b) >= OutputFlushBytes {
		o.Flush()
	}
}

// Flush hands what is buffered to the harness.
func (o *Output) Flush() error {
	if len(o.buf) > 0 && o.err == nil {
		o.err = o.flush(o.buf)
	}
	o.buf = o.buf[:0]
	return o.err
}

// Err is the first failed flush.
func (o *Output) Err() error { return o.err }

// Count is the number of elements written.
func (o *Output) Count() int64 { return o.count }

// Stage is one instance of a stage's generated chain, with its DoFns set up. The harness
// runs one bundle at a time on an instance and keeps instances for later bundles.
type Stage interface {
	// StartBundle starts a bundle whose i-th output (in the order of the planned stage's
	// outputs) is outs[i]; ctx ends when the bundle is abandoned.
	StartBundle(ctx context.Context, outs []*Output) (Bundle, error)
	// Teardown tears the stage's DoFns down; the instance is not used again.
	Teardown() error
}

// Bundle is a bundle in progress on a Stage.
type Bundle interface {
	// Process runs one element of the stage's input through the chain: h is its header
	// and b starts at its value. It returns how many bytes of b the value took.
	Process(h Header, b []byte) (int, error)
	// Finish ends the bundle: lifted combines emit what they hold, DoFns' FinishBundle
	// run. The harness flushes the outputs afterwards.
	Finish() error
}

// Splitter is implemented by the bundles of chains that can give work in progress away:
// a chain that starts by processing a splittable DoFn's restrictions. The harness calls
// Split on its control goroutine while Process runs on the bundle's.
type Splitter interface {
	// Split splits the restriction in progress at fraction of what remains; the bundle
	// keeps the primary, and the residual comes back as an element of the stage's input
	// (header and value) for another bundle to process. It returns nil when there is
	// nothing to split.
	Split(fraction float64) (residual []byte, err error)
}

// PCollectionCounter is implemented by bundles that count the elements of the
// PCollections their chain produces, which the harness reports as the SDK harness does.
type PCollectionCounter interface {
	PCollectionCounts() []PCollectionCount
}

// PCollectionCount is the element count of the PCollection that a transform (unique
// name) produces on an output (its local tag).
type PCollectionCount struct {
	Transform, Output string
	Count             int64
}

// StageFactory makes a new instance of a stage's chain (decoding its DoFns' configuration
// from env and running their Setup).
type StageFactory func(env StageEnv) (Stage, error)

// StageEnv is what the harness knows of the stage being set up: the runner's descriptor
// carries the stage's transforms as the pipeline has them, and the coders of its ports.
type StageEnv interface {
	// Payload is the spec payload of the stage's transform with the given unique name
	// (a ParDoPayload for a ParDo, a CombinePayload for a combine's parts).
	Payload(uniqueName string) ([]byte, error)
	// TransformID is the id the runner knows the named transform by: user metrics are
	// reported under it (see TransformContext).
	TransformID(uniqueName string) (string, error)
	// InputCoder is the coder the stage's input arrives in, and OutputCoder(i) the coder
	// its i-th output leaves in: windowed value coders, as the runner wrote them for the
	// SDK harness (see SDKCodec).
	InputCoder() (*coder.Coder, error)
	OutputCoder(i int) (*coder.Coder, error)
	// TransformCoder is the coder of the one PCollection the named transform reads (its
	// main input: a ParDo's side inputs aside) or, with output, writes, as the runner's
	// descriptor has it: what the SDK's own nodes code values inside a stage with (a
	// CoGroupByKey's inject and expand, a stateful ParDo's keys).
	TransformCoder(uniqueName string, output bool) (*coder.Coder, error)
	// Coder is the coder of the given id in the runner's descriptor: a stateful ParDo's
	// state coders (see UserStates).
	Coder(id string) (*coder.Coder, error)
}

// TransformContext is the context a transform's DoFn methods get in a bundle: ctx (the
// bundle's, which carries its metrics store) naming the transform, so that the user
// metrics they update are reported as the transform's, as the SDK harness does.
func TransformContext(ctx context.Context, transformID string) context.Context {
	return metrics.SetPTransformID(ctx, transformID)
}

// DoFn decodes the struct DoFn a ParDo's payload carries: the value the pipeline built (as
// the pointer the SDK makes), its exported fields restored as the Go SDK restores them.
// It runs once per stage instance, so its reflection costs nothing per element.
func DoFn(payload []byte) (any, error) {
	fn, err := parDoFn(payload)
	if err != nil {
		return nil, fmt.Errorf("sluice native: a DoFn: %w", err)
	}
	if fn.Recv == nil {
		return nil, fmt.Errorf("sluice native: the payload holds a function, not a DoFn struct")
	}
	return fn.Recv, nil
}

var registry = struct {
	sync.Mutex
	stages   map[string]StageFactory
	portable map[string]string
}{stages: map[string]StageFactory{}, portable: map[string]string{}}

// RegisterStage registers the chain of the SDK stage with the given fingerprint. The
// generated file calls it from init.
func RegisterStage(fingerprint string, f StageFactory) {
	registry.Lock()
	defer registry.Unlock()
	registry.stages[fingerprint] = f
}

// RegisterPortableStage records a stage of the pipeline that sluicegen wrote no chain
// for, and why: the runner then says why it runs portably instead of calling it stale.
func RegisterPortableStage(fingerprint, why string) {
	registry.Lock()
	defer registry.Unlock()
	registry.portable[fingerprint] = why
}

// PortableStages returns what RegisterPortableStage recorded, by fingerprint.
func PortableStages() map[string]string {
	registry.Lock()
	defer registry.Unlock()
	out := make(map[string]string, len(registry.portable))
	for fp, why := range registry.portable {
		out[fp] = why
	}
	return out
}

// LookupStage returns the chain registered for fingerprint.
func LookupStage(fingerprint string) (StageFactory, bool) {
	registry.Lock()
	defer registry.Unlock()
	f, ok := registry.stages[fingerprint]
	return f, ok
}

// Fingerprints lists the registered stages' fingerprints, sorted.
func Fingerprints() []string {
	registry.Lock()
	defer registry.Unlock()
	fps := make([]string, 0, len(registry.stages))
	for fp := range registry.stages {
		fps = append(fps, fp)
	}
	sort.Strings(fps)
	return fps
}

// Func returns the function registered with the Beam runtime under name (its package
// path and name, as the pipeline proto names it) as an F. Generated code uses it, once
// per stage instance, for functions it cannot name in Go (unexported ones of other
// packages, such as the SDK's own transforms), then calls them directly.
func Func[F any](name string) (F, error) {
	var zero F
	t := reflect.TypeFor[F]()
	v, err := runtime.ResolveFunction(name, t)
	if err != nil {
		return zero, fmt.Errorf("sluice native: resolving %s: %w", name, err)
	}
	f, ok := v.(F)
	if !ok {
		return zero, fmt.Errorf("sluice native: %s is a %T, want %v", name, v, t)
	}
	return f, nil
}
