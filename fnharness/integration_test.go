package fnharness

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal/extworker"
	"google.golang.org/protobuf/proto"
)

func emitGreetings(_ []byte, emit func(string)) {
	emit("alpha")
	emit("beta")
	emit("gamma")
}

func init() {
	beam.RegisterFunction(emitGreetings)
}

// greetingsDescriptor marshals impulse → ParDo(emitGreetings) with the Go SDK and
// wraps the ParDo between a data source and a data sink, as the engine would.
func greetingsDescriptor(t *testing.T) *fnpb.ProcessBundleDescriptor {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	beam.ParDo(s, emitGreetings, beam.Impulse(s))
	edges, _, err := p.Build()
	if err != nil {
		t.Fatal(err)
	}
	env := &pipepb.Environment{Urn: URNEnvExternal}
	pipe, err := graphx.Marshal(edges, &graphx.Options{Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	comps := pipe.GetComponents()
	var pardoID string
	var pardo *pipepb.PTransform
	for id, tr := range comps.GetTransforms() {
		if tr.GetSpec().GetUrn() == "beam:transform:pardo:v1" {
			pardoID, pardo = id, tr
		}
	}
	if pardo == nil {
		t.Fatalf("no ParDo in %v", comps.GetTransforms())
	}
	var in, out string
	for _, pc := range pardo.GetInputs() {
		in = pc
	}
	for _, pc := range pardo.GetOutputs() {
		out = pc
	}
	coders := map[string]*pipepb.Coder{}
	for id, c := range comps.GetCoders() {
		coders[id] = c
	}
	coders["gw"] = &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: "beam:coder:global_window:v1"}}
	coders["wv_in"] = &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: "beam:coder:windowed_value:v1"},
		ComponentCoderIds: []string{comps.GetPcollections()[in].GetCoderId(), "gw"}}
	coders["wv_out"] = &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: "beam:coder:windowed_value:v1"},
		ComponentCoderIds: []string{comps.GetPcollections()[out].GetCoderId(), "gw"}}
	inPort, _ := proto.Marshal(&fnpb.RemoteGrpcPort{CoderId: "wv_in"})
	outPort, _ := proto.Marshal(&fnpb.RemoteGrpcPort{CoderId: "wv_out"})
	return &fnpb.ProcessBundleDescriptor{
		Id: "greetings",
		Transforms: map[string]*pipepb.PTransform{
			"source": {UniqueName: "source", Spec: &pipepb.FunctionSpec{Urn: URNDataSource, Payload: inPort}, Outputs: map[string]string{"o": in}},
			pardoID:  pardo,
			"sink":   {UniqueName: "sink", Spec: &pipepb.FunctionSpec{Urn: URNDataSink, Payload: outPort}, Inputs: map[string]string{"i": out}},
		},
		Pcollections: map[string]*pipepb.PCollection{
			in:  comps.GetPcollections()[in],
			out: comps.GetPcollections()[out],
		},
		WindowingStrategies: comps.GetWindowingStrategies(),
		Coders:              coders,
		Environments:        comps.GetEnvironments(),
	}
}

// TestRealGoHarness runs a bundle on the Beam Go SDK harness, started in-process
// through its LOOPBACK external worker pool.
func TestRealGoHarness(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	s := startServer(t)

	lb, err := extworker.StartLoopback(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Stop(context.Background())
	payload, _ := proto.Marshal(&pipepb.ExternalPayload{Endpoint: &pipepb.ApiServiceDescriptor{Url: lb.EnvironmentConfig(ctx)}})

	w, err := s.StartWorker(ctx, WorkerConfig{JobID: "real", EnvID: "go", Env: &pipepb.Environment{Urn: URNEnvExternal, Payload: payload}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop(context.Background())
	if err := w.Register(greetingsDescriptor(t)); err != nil {
		t.Fatal(err)
	}

	// One impulse element: empty bytes in the global window at the min timestamp.
	var impulse bytes.Buffer
	enc := exec.MakeElementEncoder(coder.NewW(coder.NewBytes(), coder.NewGlobalWindow()))
	if err := enc.Encode(&exec.FullValue{Elm: []byte{}, Timestamp: mtime.MinTimestamp, Windows: window.SingleGlobalWindow, Pane: typex.NoFiringPane()}, &impulse); err != nil {
		t.Fatal(err)
	}

	for round := range 2 { // the second bundle reuses the SDK's cached plan
		b, err := w.StartBundle(ctx, "greetings", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Send("source", impulse.Bytes()); err != nil {
			t.Fatal(err)
		}
		if err := b.CloseInput([]string{"source"}, nil); err != nil {
			t.Fatal(err)
		}
		var data []byte
		for _, o := range drain(t, b) {
			if o.TransformID != "sink" {
				t.Errorf("output from %q", o.TransformID)
			}
			data = append(data, o.Data...)
		}
		resp, err := b.Result()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(resp.GetMonitoringInfos()) == 0 {
			t.Errorf("round %d: no monitoring infos in the response", round)
		}

		dec := exec.MakeElementDecoder(coder.NewW(coder.NewString(), coder.NewGlobalWindow()))
		r := bytes.NewReader(data)
		var got []string
		for r.Len() > 0 {
			fv, err := dec.Decode(r)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("decoding output: %v", err)
			}
			got = append(got, fv.Elm.(string))
		}
		if want := []string{"alpha", "beta", "gamma"}; !slices.Equal(got, want) {
			t.Errorf("round %d: got %q, want %q", round, got, want)
		}
	}

	if err := w.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}
