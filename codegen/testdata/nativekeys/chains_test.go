package main

// This test runs the chain sluicegen generated for this package's first stage
// (nativekeys_sluice.go, which codegen's tests add with a build overlay) the way the
// native harness does, and runs the Go SDK's own exec nodes (ParDo, WindowInto,
// LiftedCombine) on the same impulse: each precombine's partials, keyed by float32 values,
// a row-coded struct, a custom-coded struct, a struct the generated file cannot name
// (held as any) and the struct per fixed window, must be the SDK's element for element
// (its key's encoding, its count, its last element's time and its window; in the SDK's
// cache order, which is a map's, sorted here).

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
	"github.com/sluice-runner/sluice/codegen/testdata/nativekeys/internal/zone"
	"github.com/sluice-runner/sluice/runner/wire"
)

// nEvents is how many values the test makes.
const nEvents = 400

// fakeEnv serves a planned stage's transforms' payloads and input coders by unique name
// and its ports' coders, as the runner's descriptor does.
type fakeEnv struct {
	payloads map[string][]byte
	inputs   map[string]*coder.Coder
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
func (e *fakeEnv) Coder(string) (*coder.Coder, error)      { return nil, fmt.Errorf("not used") }

func (e *fakeEnv) TransformCoder(name string, output bool) (*coder.Coder, error) {
	c, ok := e.inputs[name]
	if !ok || output {
		return nil, fmt.Errorf("no input coder of %q", name)
	}
	return c, nil
}

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
	coders := graphx.NewCoderUnmarshaller(comps.GetCoders())
	env := &fakeEnv{payloads: map[string][]byte{}, inputs: map[string]*coder.Coder{}}
	for _, tr := range comps.GetTransforms() {
		// A test binary's package is not main: the SDK names this package's DoFns (and
		// so the transforms holding them) after its path, where the program says main.
		name := strings.ReplaceAll(tr.GetUniqueName(), "/nativekeys.", "/main.")
		env.payloads[name] = tr.GetSpec().GetPayload()
		for _, pc := range tr.GetInputs() {
			ic, err := coders.Coder(comps.GetPcollections()[pc].GetCoderId())
			if err != nil {
				t.Fatal(err)
			}
			env.inputs[name] = ic
		}
	}
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
	if len(env.outs) != 5 {
		t.Fatalf("stage s1 has %d outputs, want 5", len(env.outs))
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

// resolve is a function of the SDK's stats package, as its harness finds it by name.
func resolve[F any](t *testing.T, name string) any {
	t.Helper()
	f, err := runtime.ResolveFunction("github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats."+name, reflect.TypeFor[F]())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// runSDK runs the impulse through the SDK's nodes: makeValuesFn, then the nodes of
// branch, the first of which it feeds, and returns what snk (the last) encoded.
func runSDK(t *testing.T, snk *sink, branch ...exec.Node) []byte {
	t.Helper()
	ctx := context.Background()
	values := &exec.ParDo{UID: 1, Fn: doFn(t, &makeValuesFn{Events: nEvents}), Out: []exec.Node{branch[0]}}
	nodes := append([]exec.Node{values}, branch...)
	for _, n := range nodes {
		if err := n.Up(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := values.StartBundle(ctx, "b", exec.DataContext{}); err != nil {
		t.Fatal(err)
	}
	in := &exec.FullValue{Elm: []byte{}, Timestamp: beam.EventTime(impulseHeader.Timestamp), Windows: window.SingleGlobalWindow, Pane: beam.PaneInfo{Timing: 3, IsFirst: true, IsLast: true}}
	if err := values.ProcessElement(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := values.FinishBundle(ctx); err != nil {
		t.Fatal(err)
	}
	return snk.buf.Bytes()
}

// partial is a precombine's output element: its header's time and windows, its KV's
// encoding and its key's.
type partial struct {
	ts      int64
	windows string
	kv, key string
}

// partials splits what an output of coder c received into elements, sorted.
func partials(t *testing.T, c *coder.Coder, b []byte) []partial {
	t.Helper()
	header, err := rt.HeaderDecoder(c.Window)
	if err != nil {
		t.Fatal(err)
	}
	dec := exec.MakeElementDecoder(coder.SkipW(c))
	keyEnc := exec.MakeElementEncoder(coder.SkipW(c).Components[0])
	var ps []partial
	for len(b) > 0 {
		h, m, err := header(b)
		if err != nil {
			t.Fatal(err)
		}
		r := bytes.NewReader(b[m:])
		fv, err := dec.Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		var key bytes.Buffer
		if err := keyEnc.Encode(&exec.FullValue{Elm: fv.Elm}, &key); err != nil {
			t.Fatal(err)
		}
		n := len(b) - m - r.Len()
		ps = append(ps, partial{h.Timestamp, string(h.Windows), string(b[m : m+n]), key.String()})
		b = b[m+n:]
	}
	slices.SortFunc(ps, func(a, b partial) int {
		return strings.Compare(a.windows+"\x00"+a.kv, b.windows+"\x00"+b.kv)
	})
	return ps
}

// Each precombine's partials are the SDK's LiftedCombine's: keys the SDK's coder codes
// alike are one key (-0 and +0 are two, the two NaNs two, the tags of one name in any
// case one, -0 and +0 two zones), each partial at its key's last element's time. Panes are left out: the
// runner's grouping reads none.
func TestPartialsMatchSDK(t *testing.T) {
	env := planned(t)
	got := runChain(t, env)
	sumInt := resolve[func(int, int) int](t, "sumIntFn")
	keyed := resolve[func(beam.T) (beam.T, int)](t, "keyedCountFn")
	for i, c := range []struct {
		name string
		fn   any // the CombineFn
		head func(next exec.Node) []exec.Node
		keys int // distinct keys, windows aside
	}{
		{"tags", sumInts, func(next exec.Node) []exec.Node {
			return []exec.Node{&exec.ParDo{UID: 2, Fn: doFn(t, tagOf), Out: []exec.Node{next}}}
		}, 2},
		{"zones", sumInt, func(next exec.Node) []exec.Node {
			return []exec.Node{&exec.ParDo{UID: 2, Fn: doFn(t, zone.Of), Out: []exec.Node{next}}}
		}, 5},
		{"regions", sumInt, func(next exec.Node) []exec.Node {
			return []exec.Node{&exec.ParDo{UID: 2, Fn: doFn(t, regionOf), Out: []exec.Node{next}}}
		}, 4},
		{"float32s", sumInt, func(next exec.Node) []exec.Node {
			count := &exec.ParDo{UID: 3, Fn: doFn(t, keyed), Out: []exec.Node{next}}
			return []exec.Node{&exec.ParDo{UID: 2, Fn: doFn(t, toFloat32), Out: []exec.Node{count}}, count}
		}, 7},
		{"regions in fixed windows", sumInt, func(next exec.Node) []exec.Node {
			into := &exec.WindowInto{UID: 3, Fn: window.NewFixedWindows(2 * time.Second), Out: next}
			return []exec.Node{&exec.ParDo{UID: 2, Fn: doFn(t, regionOf), Out: []exec.Node{into}}, into}
		}, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfn, err := graph.NewCombineFn(c.fn)
			if err != nil {
				t.Fatal(err)
			}
			out := env.outs[i]
			snk := newSink(out)
			lifted := &exec.LiftedCombine{Combine: &exec.Combine{UID: 4, Fn: cfn, Out: snk}, KeyCoder: coder.SkipW(out).Components[0], WindowCoder: out.Window}
			want := partials(t, out, runSDK(t, snk, append(c.head(lifted), lifted, snk)...))
			keys := map[string]bool{}
			for _, p := range want {
				keys[p.key] = true
			}
			if len(keys) != c.keys {
				t.Errorf("the SDK's partials have %d keys, want %d: %+v", len(keys), c.keys, want)
			}
			if g := partials(t, out, got[i]); !slices.Equal(g, want) {
				t.Errorf("chain's partials (%d) differ from the SDK's (%d):\nchain %+v\nSDK   %+v", len(g), len(want), g, want)
			}
		})
	}
}
