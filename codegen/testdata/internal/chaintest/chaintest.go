// Package chaintest runs a generated chain the way the native harness does, next to the Go
// SDK's own exec nodes, for the test programs under codegen/testdata whose chains_test.go
// compares the two byte for byte. A test program's package is not main when its tests run,
// so the SDK names its DoFns (and the transforms holding them) after its path, where the
// generated file, written for package main, names them after main: Plan maps the names.
package chaintest

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

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

// Env serves a planned stage's transforms' payloads and input coders by unique name and
// its output ports' coders, as the runner's descriptor does (rt.StageEnv).
type Env struct {
	payloads map[string][]byte
	inputs   map[string]*coder.Coder
	// Outs are the stage's output ports' coders, in order.
	Outs []*coder.Coder
}

func (e *Env) Payload(name string) ([]byte, error) {
	p, ok := e.payloads[name]
	if !ok {
		return nil, fmt.Errorf("no transform %q", name)
	}
	return p, nil
}

func (e *Env) TransformID(name string) (string, error) { return "id:" + name, nil }
func (e *Env) InputCoder() (*coder.Coder, error)       { return nil, fmt.Errorf("not served") }
func (e *Env) OutputCoder(i int) (*coder.Coder, error) { return e.Outs[i], nil }
func (e *Env) Coder(string) (*coder.Coder, error)      { return nil, fmt.Errorf("not served") }

// TransformCoder serves the coder of a transform's (one) input.
func (e *Env) TransformCoder(name string, output bool) (*coder.Coder, error) {
	c, ok := e.inputs[name]
	if !ok || output {
		return nil, fmt.Errorf("no input coder of %q", name)
	}
	return c, nil
}

// Plan captures p, plans it as sluicegen does and returns the env of its stage stageID.
// pkg is the test program's directory name.
func Plan(t *testing.T, p *beam.Pipeline, pkg, stageID string) *Env {
	t.Helper()
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
	env := &Env{payloads: map[string][]byte{}, inputs: map[string]*coder.Coder{}}
	for _, tr := range comps.GetTransforms() {
		name := strings.ReplaceAll(tr.GetUniqueName(), "/"+pkg+".", "/main.")
		env.payloads[name] = tr.GetSpec().GetPayload()
		if ins := tr.GetInputs(); len(ins) == 1 {
			for _, pc := range ins {
				ic, err := coders.Coder(comps.GetPcollections()[pc].GetCoderId())
				if err != nil {
					t.Fatal(err)
				}
				env.inputs[name] = ic
			}
		}
	}
	found := false
	for _, st := range a.Graph.Stages {
		if st.ID != stageID {
			continue
		}
		found = true
		for _, o := range st.Outputs {
			c, err := coders.Coder(a.Graph.PortCoders[o])
			if err != nil {
				t.Fatal(err)
			}
			env.Outs = append(env.Outs, c)
		}
	}
	if !found {
		t.Fatalf("the plan has no stage %s", stageID)
	}
	return env
}

// Run runs one bundle of the chain registered for stageID (stages is the generated file's
// sluiceStages) on elems, each with header h, and returns what it wrote to each output.
func Run(t *testing.T, stages map[string]string, stageID string, env *Env, h rt.Header, elems ...[]byte) [][]byte {
	t.Helper()
	var f rt.StageFactory
	for fp, label := range stages {
		if strings.HasPrefix(label, stageID+":") {
			f, _ = rt.LookupStage(fp)
		}
	}
	if f == nil {
		t.Fatalf("stage %s is not registered: %v", stageID, stages)
	}
	s, err := f(env)
	if err != nil {
		t.Fatal(err)
	}
	got := make([][]byte, len(env.Outs))
	outs := make([]*rt.Output, len(env.Outs))
	for i := range outs {
		outs[i] = rt.NewOutput(func(b []byte) error { got[i] = append(got[i], b...); return nil })
	}
	b, err := s.StartBundle(context.Background(), outs)
	if err != nil {
		t.Fatal(err)
	}
	for _, elem := range elems {
		if n, err := b.Process(h, elem); err != nil || n != len(elem) {
			t.Fatalf("Process took %d of %d bytes, %v", n, len(elem), err)
		}
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

// ImpulseHeader is the header of the impulse's one element, as the runner sends it.
var ImpulseHeader = rt.Header{Timestamp: -9223372036854775, Pane: wire.PaneNoFiring}

// RunImpulse runs the impulse's element through the SDK's exec nodes in one bundle: it
// sets every node up and feeds the first, and returns what snk, one of the nodes after it,
// encoded.
func RunImpulse(t *testing.T, snk *Sink, nodes ...exec.Node) []byte {
	t.Helper()
	ctx := context.Background()
	for _, n := range nodes {
		if err := n.Up(ctx); err != nil {
			t.Fatal(err)
		}
	}
	first := nodes[0]
	if err := first.StartBundle(ctx, "b", exec.DataContext{}); err != nil {
		t.Fatal(err)
	}
	in := &exec.FullValue{Elm: []byte{}, Timestamp: beam.EventTime(ImpulseHeader.Timestamp), Windows: window.SingleGlobalWindow, Pane: beam.PaneInfo{Timing: 3, IsFirst: true, IsLast: true}}
	if err := first.ProcessElement(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := first.FinishBundle(ctx); err != nil {
		t.Fatal(err)
	}
	return snk.Buf.Bytes()
}

// Sink is an exec.Node that encodes what reaches it as the SDK's data sink does.
type Sink struct {
	enc  exec.ElementEncoder
	wenc exec.WindowEncoder
	Buf  bytes.Buffer
}

// NewSink returns a Sink encoding with c, a windowed value coder.
func NewSink(c *coder.Coder) *Sink {
	return &Sink{enc: exec.MakeElementEncoder(coder.SkipW(c)), wenc: exec.MakeWindowEncoder(c.Window)}
}

func (s *Sink) ID() exec.UnitID                                             { return 1000 }
func (s *Sink) Up(context.Context) error                                    { return nil }
func (s *Sink) StartBundle(context.Context, string, exec.DataContext) error { return nil }
func (s *Sink) FinishBundle(context.Context) error                          { return nil }
func (s *Sink) Down(context.Context) error                                  { return nil }

func (s *Sink) ProcessElement(_ context.Context, fv *exec.FullValue, _ ...exec.ReStream) error {
	if err := exec.EncodeWindowedValueHeader(s.wenc, fv.Windows, fv.Timestamp, fv.Pane, &s.Buf); err != nil {
		return err
	}
	return s.enc.Encode(fv, &s.Buf)
}

// DoFn is fn as the SDK's graph has it, for an exec.ParDo.
func DoFn(t *testing.T, fn any) *graph.DoFn {
	t.Helper()
	d, err := graph.NewDoFn(fn, graph.NumMainInputs(graph.MainSingle))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Resolve is the function of type F the SDK's harness finds under name (a registered
// function's full name, e.g. one of package stats's), as a DoFn or CombineFn for exec nodes.
func Resolve[F any](t *testing.T, name string) any {
	t.Helper()
	f, err := runtime.ResolveFunction(name, reflect.TypeFor[F]())
	if err != nil {
		t.Fatal(err)
	}
	return f
}
