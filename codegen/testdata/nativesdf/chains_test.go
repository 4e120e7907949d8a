package main

// This test runs the chains sluicegen generated for this package (nativesdf_sluice.go,
// which codegen's tests add with a build overlay) the way the native harness does, and
// runs the Go SDK's own splittable DoFn nodes (exec.PairWithRestriction,
// exec.SplitAndSizeRestrictions, exec.ProcessSizedElementsAndRestrictions) on the same
// elements: what the chains write must be what the SDK writes, byte for byte for the
// sized elements (SDK-coded: row and custom values), element for element after that.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/codegen/gen"
	"github.com/sluice-runner/sluice/codegen/rt"
	"github.com/sluice-runner/sluice/runner/wire"
)

// fakeEnv serves a planned stage's transforms' payloads by unique name and its ports'
// coders, as the runner's descriptor does.
type fakeEnv struct {
	payloads map[string][]byte
	in       *coder.Coder
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

func (e *fakeEnv) InputCoder() (*coder.Coder, error) {
	if e.in == nil {
		return nil, fmt.Errorf("no input coder")
	}
	return e.in, nil
}

func (e *fakeEnv) OutputCoder(i int) (*coder.Coder, error) {
	if i >= len(e.outs) {
		return nil, fmt.Errorf("no output %d", i)
	}
	return e.outs[i], nil
}

// The chains of this package have no CoGroupByKey: they never ask.
func (e *fakeEnv) TransformCoder(string, bool) (*coder.Coder, error) {
	return nil, fmt.Errorf("not served")
}

func (e *fakeEnv) Coder(string) (*coder.Coder, error) { return nil, fmt.Errorf("not served") }

// planned captures the pipeline built with the given configuration, plans it as
// sluicegen does and returns the env of each SDK stage (its ports' coders from the plan's
// port coders, unmarshalled as the harness does).
func planned(t *testing.T, in string, n int64, fn *rangeFn) map[string]*fakeEnv {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	build(s, in, "unused", n, fn)
	c, err := capture.Record(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	a, err := gen.Analyze(c)
	if err != nil {
		t.Fatal(err)
	}
	comps := a.Graph.Components
	payloads := map[string][]byte{}
	for _, tr := range comps.GetTransforms() {
		// A test binary's package is not main: the SDK names this package's DoFns (and
		// so the transforms holding them) after its path, where the program says main.
		payloads[strings.ReplaceAll(tr.GetUniqueName(), "/nativesdf.", "/main.")] = tr.GetSpec().GetPayload()
	}
	coders := graphx.NewCoderUnmarshaller(comps.GetCoders())
	portCoder := func(pc string) *coder.Coder {
		id := a.Graph.PortCoders[pc]
		if id == "" {
			return nil // an impulse stage's input
		}
		c, err := coders.Coder(id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	envs := map[string]*fakeEnv{}
	for _, st := range a.Graph.Stages {
		env := &fakeEnv{payloads: payloads, in: portCoder(st.Input)}
		for _, o := range st.Outputs {
			env.outs = append(env.outs, portCoder(o))
		}
		envs[st.ID] = env
	}
	return envs
}

// factory is the chain registered for the planned stage id.
func factory(t *testing.T, id string) rt.StageFactory {
	t.Helper()
	for fp, label := range sluiceStages {
		if strings.HasPrefix(label, id+":") {
			f, ok := rt.LookupStage(fp)
			if !ok {
				t.Fatalf("stage %s (%s) is not registered", id, fp)
			}
			return f
		}
	}
	t.Fatalf("no stage %s in %v", id, sluiceStages)
	return nil
}

var header = rt.Header{Timestamp: 1234, Pane: wire.PaneNoFiring}

// runStage runs one bundle of a stage's chain on elements (each a windowed value:
// header, then value) and returns what it wrote to its one output.
func runStage(t *testing.T, id string, env *fakeEnv, elems []byte) ([]byte, error) {
	t.Helper()
	s, err := factory(t, id)(env)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Teardown()
	var got []byte
	out := rt.NewOutput(func(b []byte) error { got = append(got, b...); return nil })
	b, err := s.StartBundle(context.Background(), []*rt.Output{out})
	if err != nil {
		t.Fatal(err)
	}
	for rest := elems; len(rest) > 0; {
		h, m, err := rt.DecodeGlobalHeader(rest)
		if err != nil {
			t.Fatal(err)
		}
		n, err := b.Process(h, rest[m:])
		if err != nil {
			return nil, err
		}
		rest = rest[m+n:]
	}
	if err := b.Finish(); err != nil {
		return nil, err
	}
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	return got, nil
}

// sdkValue is a windowed value as the SDK's data source decodes it.
type sdkValue struct {
	fv  *exec.FullValue
	raw []byte // its bytes: header and value
}

// decodeAll decodes a stream of windowed values of coder c with the SDK's decoders.
func decodeAll(t *testing.T, c *coder.Coder, b []byte) []sdkValue {
	t.Helper()
	dec := exec.MakeElementDecoder(coder.SkipW(c))
	wdec := exec.MakeWindowDecoder(c.Window)
	r := bytes.NewReader(b)
	var vs []sdkValue
	for r.Len() > 0 {
		start := len(b) - r.Len()
		ws, ts, pane, err := exec.DecodeWindowedValueHeader(wdec, r)
		if err != nil {
			t.Fatal(err)
		}
		fv, err := dec.Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		fv.Windows, fv.Timestamp, fv.Pane = ws, ts, pane
		vs = append(vs, sdkValue{fv, b[start : len(b)-r.Len()]})
	}
	return vs
}

// sink is an exec.Node that encodes what reaches it as the SDK's data sink does, or
// keeps it.
type sink struct {
	enc  exec.ElementEncoder
	wenc exec.WindowEncoder
	buf  bytes.Buffer
	kept []exec.FullValue
}

func newSink(c *coder.Coder) *sink {
	if c == nil {
		return &sink{}
	}
	return &sink{enc: exec.MakeElementEncoder(coder.SkipW(c)), wenc: exec.MakeWindowEncoder(c.Window)}
}

func (s *sink) ID() exec.UnitID                                             { return 1000 }
func (s *sink) Up(context.Context) error                                    { return nil }
func (s *sink) StartBundle(context.Context, string, exec.DataContext) error { return nil }
func (s *sink) FinishBundle(context.Context) error                          { return nil }
func (s *sink) Down(context.Context) error                                  { return nil }

func (s *sink) ProcessElement(_ context.Context, fv *exec.FullValue, _ ...exec.ReStream) error {
	if s.enc == nil {
		s.kept = append(s.kept, *fv)
		return nil
	}
	if err := exec.EncodeWindowedValueHeader(s.wenc, fv.Windows, fv.Timestamp, fv.Pane, &s.buf); err != nil {
		return err
	}
	return s.enc.Encode(fv, &s.buf)
}

// sdkDoFn decodes the DoFn of the named transform from its payload, as the SDK harness does.
func sdkDoFn(t *testing.T, env *fakeEnv, name string) *graph.DoFn {
	t.Helper()
	payload, err := env.Payload(name)
	if err != nil {
		t.Fatal(err)
	}
	recv, err := rt.DoFn(payload)
	if err != nil {
		t.Fatal(err)
	}
	fn, err := graph.NewDoFn(recv, graph.NumMainInputs(graph.MainSingle))
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

// sdkPairSplit runs the SDK's pair and split nodes on elem and returns the sized
// elements they write, encoded with out.
func sdkPairSplit(t *testing.T, env *fakeEnv, prefix string, elem *exec.FullValue, out *coder.Coder) []byte {
	t.Helper()
	ctx := context.Background()
	snk := newSink(out)
	split := &exec.SplitAndSizeRestrictions{UID: 2, Fn: sdkDoFn(t, env, prefix+"/split"), Out: snk}
	pair := &exec.PairWithRestriction{UID: 1, Fn: sdkDoFn(t, env, prefix+"/pair"), Out: split}
	for _, n := range []exec.Node{split, pair} {
		if err := n.Up(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := pair.StartBundle(ctx, "b", exec.DataContext{}); err != nil {
		t.Fatal(err)
	}
	if err := pair.ProcessElement(ctx, elem); err != nil {
		t.Fatal(err)
	}
	if err := pair.FinishBundle(ctx); err != nil {
		t.Fatal(err)
	}
	return snk.buf.Bytes()
}

// sdkProcess runs the SDK's process node on the sized elements and returns what the
// DoFn emitted, or the first error.
func sdkProcess(t *testing.T, env *fakeEnv, name string, sized []sdkValue) ([]exec.FullValue, error) {
	t.Helper()
	ctx := context.Background()
	snk := newSink(nil)
	n := &exec.ProcessSizedElementsAndRestrictions{PDo: &exec.ParDo{UID: 1, Fn: sdkDoFn(t, env, name), Out: []exec.Node{snk}}}
	if err := n.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.StartBundle(ctx, "b", exec.DataContext{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range sized {
		if err := n.ProcessElement(ctx, v.fv); err != nil {
			return nil, err
		}
	}
	if err := n.FinishBundle(ctx); err != nil {
		t.Fatal(err)
	}
	return snk.kept, nil
}

type line struct {
	h rt.Header
	s string
}

// keyedLines decodes what a stage ending in textio.Write's addFixedKeyFn wrote.
func keyedLines(t *testing.T, b []byte, dec func([]byte) (int, string, int, error)) []line {
	t.Helper()
	var ls []line
	for len(b) > 0 {
		h, m, err := rt.DecodeGlobalHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		k, s, n, err := dec(b[m:])
		if err != nil || k != 0 {
			t.Fatalf("decoding a keyed line: key %d, %v", k, err)
		}
		ls = append(ls, line{h, s})
		b = b[m+n:]
	}
	return ls
}

func paneOf(p typex.PaneInfo) wire.PaneInfo {
	return wire.PaneInfo{Timing: wire.PaneTiming(p.Timing), IsFirst: p.IsFirst, IsLast: p.IsLast, Index: p.Index, NonSpeculativeIndex: p.NonSpeculativeIndex}
}

// TestRangeSDF: rangeFn's pair and split (stage s3, after beam.Create's createFn) write
// the bytes the SDK's nodes write, its process (stage s4) emits what the SDK's node
// emits, at the same times and panes, through formatNum and addFixedKeyFn.
func TestRangeSDF(t *testing.T) {
	envs := planned(t, "input.txt", 10, &rangeFn{Splits: 4})
	sized, err := runStage(t, "s3", envs["s3"], append(rt.AppendGlobalHeader(nil, header), sluiceAppendS1ToS3(nil, nil)...))
	if err != nil {
		t.Fatal(err)
	}
	want := sdkPairSplit(t, envs["s3"], "Range/main.rangeFn",
		&exec.FullValue{Elm: span{N: 10}, Timestamp: typex.EventTime(header.Timestamp), Windows: window.SingleGlobalWindow, Pane: typex.NoFiringPane()},
		envs["s3"].outs[0])
	if !bytes.Equal(sized, want) {
		t.Fatalf("pair and split wrote\n%x\nthe SDK's nodes\n%x", sized, want)
	}
	parts := decodeAll(t, envs["s3"].outs[0], sized)
	if len(parts) != 4 {
		t.Fatalf("%d restrictions, want 4", len(parts))
	}

	got, err := runStage(t, "s4", envs["s4"], sized)
	if err != nil {
		t.Fatal(err)
	}
	emitted, err := sdkProcess(t, envs["s4"], "Range/main.rangeFn/process", parts)
	if err != nil {
		t.Fatal(err)
	}
	var wantLines []line
	for _, fv := range emitted {
		wantLines = append(wantLines, line{rt.Header{Timestamp: int64(fv.Timestamp), Pane: paneOf(fv.Pane)}, fmt.Sprint(fv.Elm)})
	}
	if gotLines := keyedLines(t, got, sluiceDecodeS4ToS6); len(wantLines) != 10 || !reflect.DeepEqual(gotLines, wantLines) {
		t.Errorf("process wrote %v, the SDK's node emitted %v", gotLines, wantLines)
	}

	// A DoFn that returns without finishing its restriction fails the bundle, as in the SDK.
	stop := planned(t, "input.txt", 10, &rangeFn{Splits: 1, Stop: 3})
	sized, err = runStage(t, "s3", stop["s3"], append(rt.AppendGlobalHeader(nil, header), sluiceAppendS1ToS3(nil, nil)...))
	if err != nil {
		t.Fatal(err)
	}
	_, sdkErr := sdkProcess(t, stop["s4"], "Range/main.rangeFn/process", decodeAll(t, stop["s3"].outs[0], sized))
	if _, err := runStage(t, "s4", stop["s4"], sized); err == nil || sdkErr == nil || !strings.Contains(err.Error(), sdkErr.Error()) {
		t.Errorf("an unfinished restriction: %v; the SDK: %v", err, sdkErr)
	}
}

// TestTextioSDF: textio.Read's stages read a file as the SDK's nodes do: the sized
// elements stage s2 writes (after matching and opening the file natively) are the SDK's
// for the same file, and stage s5 emits its lines, upper-cased and keyed for
// textio.Write, as the SDK's process node emits them.
func TestTextioSDF(t *testing.T) {
	dir := t.TempDir()
	text := "one line\ntwo words here\n\nlast line without newline"
	path := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	envs := planned(t, path, 10, &rangeFn{Splits: 1})
	sized, err := runStage(t, "s2", envs["s2"], append(rt.AppendGlobalHeader(nil, header), sluiceAppendS0ToS2(nil, nil)...))
	if err != nil {
		t.Fatal(err)
	}
	parts := decodeAll(t, envs["s2"].outs[0], sized)
	if len(parts) != 1 {
		t.Fatalf("%d restrictions, want 1", len(parts))
	}
	// The file the chain matched and opened, given to the SDK's nodes as the element.
	file := parts[0].fv.Elm.(*exec.FullValue).Elm
	want := sdkPairSplit(t, envs["s2"], "Read/textio.Read/textio.readFn",
		&exec.FullValue{Elm: file, Timestamp: typex.EventTime(header.Timestamp), Windows: window.SingleGlobalWindow, Pane: typex.NoFiringPane()},
		envs["s2"].outs[0])
	if !bytes.Equal(sized, want) {
		t.Fatalf("pair and split wrote\n%x\nthe SDK's nodes\n%x", sized, want)
	}

	got, err := runStage(t, "s5", envs["s5"], sized)
	if err != nil {
		t.Fatal(err)
	}
	emitted, err := sdkProcess(t, envs["s5"], "Read/textio.Read/textio.readFn/process", parts)
	if err != nil {
		t.Fatal(err)
	}
	var wantLines []line
	for _, fv := range emitted {
		wantLines = append(wantLines, line{rt.Header{Timestamp: int64(fv.Timestamp), Pane: paneOf(fv.Pane)}, strings.ToUpper(fv.Elm.(string))})
	}
	if gotLines := keyedLines(t, got, sluiceDecodeS5ToS8); len(wantLines) != 4 || !reflect.DeepEqual(gotLines, wantLines) {
		t.Errorf("process wrote %v, the SDK's node emitted %v", gotLines, wantLines)
	}
}

// A dynamic split gives away the rest of the restriction in progress as an element of the
// stage's input (the element, the residual, the watermark estimator state, its size) and
// keeps the primary on the tracker; with nothing in progress there is nothing to split.
func TestSplitHandsBackTheResidual(t *testing.T) {
	envs := planned(t, "input.txt", 10, &rangeFn{Splits: 1})
	s, err := factory(t, "s4")(envs["s4"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Teardown()
	out := rt.NewOutput(func([]byte) error { return nil })
	b, err := s.StartBundle(context.Background(), []*rt.Output{out})
	if err != nil {
		t.Fatal(err)
	}
	splitter, ok := b.(rt.Splitter)
	if !ok {
		t.Fatalf("%T is not an rt.Splitter", b)
	}
	if r, err := splitter.Split(0.5); r != nil || err != nil {
		t.Fatalf("Split with nothing in progress: %x, %v", r, err)
	}
	bb := b.(*sluiceBundleS4)
	tracker := sdf.NewLockRTracker(offsetrange.NewTracker(offsetrange.Restriction{Start: 0, End: 100}))
	bb.splitTracker, bb.splitElem, bb.splitH = tracker, span{N: 100}, header
	residual, err := splitter.Split(0.25)
	if err != nil {
		t.Fatal(err)
	}
	vals := decodeAll(t, envs["s4"].in, residual)
	if len(vals) != 1 {
		t.Fatalf("%d residual elements, want 1", len(vals))
	}
	fv := vals[0].fv
	elem, restAndState := fv.Elm.(*exec.FullValue).Elm, fv.Elm.(*exec.FullValue).Elm2.(*exec.FullValue)
	want := offsetrange.Restriction{Start: 25, End: 100}
	if elem != (span{N: 100}) || restAndState.Elm != want || restAndState.Elm2 != false || fv.Elm2 != want.Size() || int64(fv.Timestamp) != header.Timestamp {
		t.Errorf("residual %+v / %+v, want span{100}, %v, false, size %v at %d", fv, restAndState, want, want.Size(), header.Timestamp)
	}
	if got := tracker.GetRestriction(); got != (offsetrange.Restriction{Start: 0, End: 25}) {
		t.Errorf("primary %v, want [0, 25)", got)
	}
}
