package main

// This test runs the chain sluicegen generated for this package's first stage
// (nativewindows_sluice.go, which codegen's tests add with a build overlay) the way the
// native harness does, and runs the Go SDK's own exec nodes (ParDo, WindowInto,
// LiftedCombine) on the same impulse: the sliding-windowed, per-window keyed elements
// must be the SDK's byte for byte (headers included: times, panes and windows, one
// element per window for the DoFn that takes its window), and the partial counts the
// SDK's per key and window (in the SDK's cache order, which is a map's, and with the
// header's pane aside: see below).

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/codegen/gen"
	"github.com/sluice-runner/sluice/codegen/rt"
	"github.com/sluice-runner/sluice/runner/wire"
)

// nEvents is how many events the tests make.
const nEvents = 300

// fakeEnv serves a planned stage's transforms' payloads by unique name and its ports'
// coders, as the runner's descriptor does.
type fakeEnv struct {
	payloads map[string][]byte
	outs     []*coder.Coder
}

func (e *fakeEnv) Payload(name string) ([]byte, error) {
	p, ok := e.payloads[name]
	if !ok {
		return nil, fmt.Errorf("no transform %q", name)
	}
	return p, nil
}

func (e *fakeEnv) TransformID(name string) (string, error) { return "id:" + name, nil }
func (e *fakeEnv) InputCoder() (*coder.Coder, error)       { return nil, fmt.Errorf("not used") }
func (e *fakeEnv) OutputCoder(i int) (*coder.Coder, error) { return e.outs[i], nil }
func (e *fakeEnv) TransformCoder(string, bool) (*coder.Coder, error) {
	return nil, fmt.Errorf("not used")
}

func (e *fakeEnv) Coder(string) (*coder.Coder, error) { return nil, fmt.Errorf("not used") }

// planned captures the pipeline, plans it as sluicegen does and returns stage s1's env.
func planned(t *testing.T) *fakeEnv {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	build(s, nEvents)
	c, err := capture.Record(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	a, err := gen.Analyze(c)
	if err != nil {
		t.Fatal(err)
	}
	comps := a.Graph.Components
	env := &fakeEnv{payloads: map[string][]byte{}}
	for _, tr := range comps.GetTransforms() {
		// A test binary's package is not main: the SDK names this package's DoFns (and
		// so the transforms holding them) after its path, where the program says main.
		env.payloads[strings.ReplaceAll(tr.GetUniqueName(), "/nativewindows.", "/main.")] = tr.GetSpec().GetPayload()
	}
	coders := graphx.NewCoderUnmarshaller(comps.GetCoders())
	for _, st := range a.Graph.Stages {
		if st.ID != "s1" {
			continue
		}
		for _, o := range st.Outputs {
			c, err := coders.Coder(a.Graph.PortCoders[o])
			if err != nil {
				t.Fatal(err)
			}
			env.outs = append(env.outs, c)
		}
	}
	if len(env.outs) != 4 {
		t.Fatalf("stage s1 has %d outputs, want 4", len(env.outs))
	}
	return env
}

var impulseHeader = rt.Header{Timestamp: -9223372036854775, Pane: wire.PaneNoFiring}

// runChain runs one bundle of stage s1's chain on the impulse and returns what it wrote
// to each output.
func runChain(t *testing.T, env *fakeEnv) [][]byte {
	t.Helper()
	var f rt.StageFactory
	for fp, label := range sluiceStages {
		if strings.HasPrefix(label, "s1:") {
			f, _ = rt.LookupStage(fp)
		}
	}
	if f == nil {
		t.Fatalf("stage s1 is not registered: %v", sluiceStages)
	}
	s, err := f(env)
	if err != nil {
		t.Fatal(err)
	}
	got := make([][]byte, len(env.outs))
	outs := make([]*rt.Output, len(env.outs))
	for i := range outs {
		outs[i] = rt.NewOutput(func(b []byte) error { got[i] = append(got[i], b...); return nil })
	}
	b, err := s.StartBundle(context.Background(), outs)
	if err != nil {
		t.Fatal(err)
	}
	elem := sluiceAppendS0ToS1(nil, []byte{})
	if n, err := b.Process(impulseHeader, elem); err != nil || n != len(elem) {
		t.Fatalf("Process took %d bytes, %v", n, err)
	}
	if err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if err := o.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

// sink is an exec.Node that encodes what reaches it as the SDK's data sink does.
type sink struct {
	enc  exec.ElementEncoder
	wenc exec.WindowEncoder
	buf  bytes.Buffer
}

func newSink(c *coder.Coder) *sink {
	return &sink{enc: exec.MakeElementEncoder(coder.SkipW(c)), wenc: exec.MakeWindowEncoder(c.Window)}
}

func (s *sink) ID() exec.UnitID                                             { return 1000 }
func (s *sink) Up(context.Context) error                                    { return nil }
func (s *sink) StartBundle(context.Context, string, exec.DataContext) error { return nil }
func (s *sink) FinishBundle(context.Context) error                          { return nil }
func (s *sink) Down(context.Context) error                                  { return nil }

func (s *sink) ProcessElement(_ context.Context, fv *exec.FullValue, _ ...exec.ReStream) error {
	if err := exec.EncodeWindowedValueHeader(s.wenc, fv.Windows, fv.Timestamp, fv.Pane, &s.buf); err != nil {
		return err
	}
	return s.enc.Encode(fv, &s.buf)
}

func doFn(t *testing.T, fn any) *graph.DoFn {
	t.Helper()
	d, err := graph.NewDoFn(fn, graph.NumMainInputs(graph.MainSingle))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// resolve is a function of the SDK's, as its harness finds it by name.
func resolve[F any](t *testing.T, name string) any {
	t.Helper()
	f, err := runtime.ResolveFunction("github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats."+name, reflect.TypeFor[F]())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// runSDK runs the impulse through the SDK's nodes: makeEventsFn, WindowInto(fn), then
// tail (which writes to snk, through the nodes after it), and returns what snk encoded.
func runSDK(t *testing.T, fn *window.Fn, snk *sink, tail exec.Node, after ...exec.Node) []byte {
	t.Helper()
	ctx := context.Background()
	into := &exec.WindowInto{UID: 2, Fn: fn, Out: tail}
	events := &exec.ParDo{UID: 1, Fn: doFn(t, &makeEventsFn{Events: nEvents}), Out: []exec.Node{into}}
	nodes := append([]exec.Node{events, into, tail}, after...)
	for _, n := range nodes {
		if err := n.Up(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := events.StartBundle(ctx, "b", exec.DataContext{}); err != nil {
		t.Fatal(err)
	}
	in := &exec.FullValue{Elm: []byte{}, Timestamp: beam.EventTime(impulseHeader.Timestamp), Windows: window.SingleGlobalWindow, Pane: beam.PaneInfo{Timing: 3, IsFirst: true, IsLast: true}}
	if err := events.ProcessElement(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := events.FinishBundle(ctx); err != nil {
		t.Fatal(err)
	}
	return snk.buf.Bytes()
}

// The sliding windows' per-window keys: windowKey takes its window, so the SDK calls it
// once per window of each element; the chain writes the same bytes.
func TestWindowKeyMatchesSDK(t *testing.T) {
	env := planned(t)
	got := runChain(t, env)[0]
	snk := newSink(env.outs[0])
	key := &exec.ParDo{UID: 3, Fn: doFn(t, windowKey), Out: []exec.Node{snk}}
	want := runSDK(t, window.NewSlidingWindows(time.Second, 3*time.Second), snk, key)
	if len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("WindowKey output: chain wrote %d bytes, the SDK %d:\nchain %x\nSDK   %x", len(got), len(want), got, want)
	}
}

// partial is a precombine's output element: its header's time and windows, key and count.
type partial struct {
	ts      int64
	windows string
	key     string
	count   int
}

func partials(t *testing.T, b []byte) []partial {
	t.Helper()
	var ps []partial
	for len(b) > 0 {
		h, m, err := rt.DecodeIntervalHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		k, v, n, err := sluiceDecodeS1ToS3(b[m:]) // the four outputs' values are all KV<string, int>
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, partial{h.Timestamp, string(h.Windows), k, v})
		b = b[m+n:]
	}
	slices.SortFunc(ps, func(a, b partial) int {
		return strings.Compare(a.windows+"\x00"+a.key, b.windows+"\x00"+b.key)
	})
	return ps
}

// The lifted combines' partial counts are the SDK's LiftedCombine's, per key and window,
// each at its key's last element's time. Panes are left out: the SDK's cache writes the
// zero pane, the chain its key's last element's (the runner's grouping reads neither).
func TestPartialCountsMatchSDK(t *testing.T) {
	env := planned(t)
	got := runChain(t, env)
	sumInt := resolve[func(int, int) int](t, "sumIntFn")
	keyed := resolve[func(beam.T) (beam.T, int)](t, "keyedCountFn")
	for i, fn := range []*window.Fn{window.NewSessions(300 * time.Millisecond), window.NewFixedWindows(2 * time.Second), window.NewSlidingWindows(time.Second, 3*time.Second)} {
		cfn, err := graph.NewCombineFn(sumInt)
		if err != nil {
			t.Fatal(err)
		}
		out := env.outs[i+1]
		snk := newSink(out)
		lifted := &exec.LiftedCombine{Combine: &exec.Combine{UID: 4, Fn: cfn, Out: snk}, KeyCoder: coder.SkipW(out).Components[0], WindowCoder: out.Window}
		count := &exec.ParDo{UID: 3, Fn: doFn(t, keyed), Out: []exec.Node{lifted}}
		want := partials(t, runSDK(t, fn, snk, count, lifted))
		if g := partials(t, got[i+1]); len(want) == 0 || !slices.Equal(g, want) {
			t.Errorf("%v: chain's partial counts (%d) differ from the SDK's (%d):\nchain %v\nSDK   %v", fn, len(g), len(want), g, want)
		}
	}
}
