package plan

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"google.golang.org/protobuf/proto"
)

var update = flag.Bool("update", false, "rewrite testdata/*.plan with the planner's current output")

func splitWords(line string, emit func(string)) {
	for _, w := range strings.Fields(line) {
		emit(w)
	}
}

func toKV(w string) (string, int) { return w, 1 }

func withSide(w string, side []string, emit func(string)) {
	emit(fmt.Sprint(w, len(side)))
}

// userKey has a coder only the Go SDK knows: its timers' key must get a length prefix.
type userKey struct{ ID int }

// timerFn keeps a count per key and emits it when the window ends or a second later.
type timerFn struct {
	EndOfWindow timers.EventTime
	Flush       timers.ProcessingTime
	Count       state.Value[int]
}

func (fn *timerFn) ProcessElement(w beam.Window, sp state.Provider, tp timers.Provider, k userKey, v int, _ func(int)) {
	fn.EndOfWindow.Set(tp, w.MaxTimestamp().ToTime())
	fn.Flush.Set(tp, time.Now().Add(time.Second))
}

func (fn *timerFn) OnTimer(ctx context.Context, sp state.Provider, tp timers.Provider, k userKey, timer timers.Context, emit func(int)) {
	n, _, _ := fn.Count.Read(sp)
	emit(n)
}

func keyByUser(w string) (userKey, int) { return userKey{len(w)}, 1 }

func init() {
	register.DoFn6x0[beam.Window, state.Provider, timers.Provider, userKey, int, func(int)](&timerFn{})
	register.Function1x2(keyByUser)
	register.Function2x0(splitWords)
	register.Function1x2(toKV)
	register.Function3x0(withSide)
	register.Emitter1[string]()
}

// pipelines are built with the Go SDK, so the planner sees what a real submission holds.
var pipelines = map[string]func(s beam.Scope){
	"wordcount": func(s beam.Scope) {
		lines := beam.Create(s, "a b", "b c")
		words := beam.ParDo(s, splitWords, lines)
		stats.Count(s, words)
	},
	"flatten_gbk": func(s beam.Scope) {
		a := beam.Create(s, "x")
		b := beam.Create(s, "y")
		kvs := beam.ParDo(s, toKV, beam.Flatten(s, a, b))
		beam.GroupByKey(s, kvs)
	},
	"side_input": func(s beam.Scope) {
		words := beam.ParDo(s, splitWords, beam.Create(s, "a b"))
		side := beam.Create(s, "s1", "s2")
		beam.ParDo(s, withSide, words, beam.SideInput{Input: side})
	},
	"windowed_lifted_combine": func(s beam.Scope) {
		kvs := beam.ParDo(s, toKV, beam.Create(s, "a", "b"))
		w := beam.WindowInto(s, window.NewFixedWindows(time.Minute), kvs)
		stats.SumPerKey(s, w)
	},
	"timers": func(s beam.Scope) {
		kvs := beam.ParDo(s, keyByUser, beam.Create(s, "a", "bb"))
		beam.ParDo(s, &timerFn{
			EndOfWindow: timers.InEventTime("eow"),
			Flush:       timers.InProcessingTime("flush"),
			Count:       state.MakeValueState[int]("count"),
		}, kvs)
	},
	"sessions_cogbk": func(s beam.Scope) {
		a := beam.WindowInto(s, window.NewSessions(time.Minute), beam.ParDo(s, toKV, beam.Create(s, "a")))
		b := beam.WindowInto(s, window.NewSessions(time.Minute), beam.ParDo(s, toKV, beam.Create(s, "b")))
		beam.CoGroupByKey(s, a, b)
	},
}

func marshal(t *testing.T, build func(beam.Scope)) *pipepb.Pipeline {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	build(s)
	edges, _, err := p.Build()
	if err != nil {
		t.Fatal(err)
	}
	env, err := graphx.CreateEnvironment(context.Background(), "beam:env:external:v1", func(context.Context) string { return "localhost:1" })
	if err != nil {
		t.Fatal(err)
	}
	pp, err := graphx.Marshal(edges, &graphx.Options{Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	return pp
}

// TestPlanGolden plans each pipeline and compares a readable dump of the JobGraph with
// testdata/<name>.plan (go test -run TestPlanGolden -update rewrites them).
func TestPlanGolden(t *testing.T) {
	names := make([]string, 0, len(pipelines))
	for n := range pipelines {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			p := marshal(t, pipelines[name])
			before := proto.Clone(p)
			g, err := Plan(p, Options{Parallelism: 2, StatefulParallelism: 4})
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(before, p) {
				t.Error("Plan modified its input pipeline")
			}
			got := dump(g)
			file := filepath.Join("testdata", name+".plan")
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("plan of %s changed:\n--- got\n%s\n--- want\n%s", name, got, want)
			}
			// Planning is deterministic.
			g2, err := Plan(p, Options{Parallelism: 2, StatefulParallelism: 4})
			if err != nil {
				t.Fatal(err)
			}
			if dump(g2) != got {
				t.Error("planning the same pipeline twice gave different plans")
			}
		})
	}
}

// dump prints stages with their transforms' unique names and port coders, and edges.
func dump(g *JobGraph) string {
	var b strings.Builder
	name := func(id string) string {
		if t := g.Components.GetTransforms()[id]; t != nil {
			return t.GetUniqueName()
		}
		return id
	}
	pcName := func(id string) string {
		return g.Components.GetPcollections()[id].GetUniqueName()
	}
	coder := func(id string) string {
		c := g.Components.GetCoders()[id]
		if len(c.GetComponentCoderIds()) == 0 {
			return strings.TrimSuffix(strings.TrimPrefix(c.GetSpec().GetUrn(), "beam:coder:"), ":v1")
		}
		return ""
	}
	var coderStr func(id string) string
	coderStr = func(id string) string {
		c := g.Components.GetCoders()[id]
		u := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(c.GetSpec().GetUrn(), "beam:coder:"), "beam:go:coder:"), ":v1")
		if len(c.GetComponentCoderIds()) == 0 {
			return coder(id)
		}
		var parts []string
		for _, cc := range c.GetComponentCoderIds() {
			parts = append(parts, coderStr(cc))
		}
		return u + "<" + strings.Join(parts, ",") + ">"
	}
	for _, s := range g.Stages {
		fmt.Fprintf(&b, "stage %s %s x%d", s.ID, s.Kind, s.Parallelism)
		if s.EnvironmentID != "" {
			fmt.Fprintf(&b, " env=%s", s.EnvironmentID)
		}
		b.WriteString("\n")
		for _, id := range s.Transforms {
			fmt.Fprintf(&b, "  %s [%s]\n", name(id), g.Components.GetTransforms()[id].GetSpec().GetUrn())
		}
		if s.Input != "" {
			fmt.Fprintf(&b, "  in:  %s\n", pcName(s.Input))
		}
		for _, pc := range s.Outputs {
			fmt.Fprintf(&b, "  out: %s\n", pcName(pc))
		}
		for _, si := range s.SideInputs {
			fmt.Fprintf(&b, "  side: %s.%s multimap=%v\n", name(si.TransformID), si.LocalName, si.Multimap)
		}
		for _, f := range s.TimerFamilies {
			fmt.Fprintf(&b, "  timers: %s.%s %v %s\n", name(f.TransformID), f.Family, f.Domain, coderStr(f.CoderID))
		}
	}
	for _, e := range g.Edges {
		fmt.Fprintf(&b, "edge %s -> %s %s %s\n", e.From, e.To, e.Partitioning, pcName(e.PCollection))
	}
	pcs := make([]string, 0, len(g.PortCoders))
	for pc, c := range g.PortCoders {
		pcs = append(pcs, pcName(pc)+" = "+coderStr(c))
	}
	sort.Strings(pcs)
	for _, l := range pcs {
		fmt.Fprintf(&b, "port %s\n", l)
	}
	return b.String()
}

func TestPlanRefusesBadPipelines(t *testing.T) {
	base := func() *pipepb.Pipeline { return marshal(t, pipelines["wordcount"]) }
	firstLeaf := func(p *pipepb.Pipeline, urn string) *pipepb.PTransform {
		ids := make([]string, 0)
		for id := range p.GetComponents().GetTransforms() {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			tr := p.GetComponents().GetTransforms()[id]
			if tr.GetSpec().GetUrn() == urn && len(tr.GetSubtransforms()) == 0 {
				return tr
			}
		}
		t.Fatalf("no leaf %s", urn)
		return nil
	}
	cases := []struct {
		name   string
		mutate func(p *pipepb.Pipeline)
		want   string
	}{
		{"nil components", func(p *pipepb.Pipeline) { p.Components = nil }, "no components"},
		{"no roots", func(p *pipepb.Pipeline) { p.RootTransformIds = nil }, "no root transforms"},
		{"unknown urn", func(p *pipepb.Pipeline) {
			firstLeaf(p, urnParDo).Spec.Urn = "beam:transform:mystery:v1"
		}, `has URN "beam:transform:mystery:v1", which Sluice does not know`},
		{"teststream from a service", func(p *pipepb.Pipeline) {
			tr := firstLeaf(p, urnParDo)
			tr.Spec.Urn = urnTestStream
			tr.Spec.Payload, _ = proto.Marshal(&pipepb.TestStreamPayload{Endpoint: &pipepb.ApiServiceDescriptor{Url: "localhost:1"}})
		}, "a TestStream reading its events from a service (localhost:1) is not supported"},
		{"bad teststream payload", func(p *pipepb.Pipeline) {
			tr := firstLeaf(p, urnParDo)
			tr.Spec.Urn = urnTestStream
			tr.Spec.Payload = []byte{0xff, 0xff}
		}, "bad TestStreamPayload"},
		{"missing environment", func(p *pipepb.Pipeline) {
			firstLeaf(p, urnParDo).EnvironmentId = "nowhere"
		}, `names environment "nowhere", which is not defined`},
		{"bad pardo payload", func(p *pipepb.Pipeline) {
			firstLeaf(p, urnParDo).Spec.Payload = []byte{0xff, 0xff}
		}, "bad ParDoPayload"},
		{"unsupported requirement", func(p *pipepb.Pipeline) {
			p.Requirements = append(p.Requirements, "beam:requirement:pardo:time_sorted_input:v1")
		}, `requires "beam:requirement:pardo:time_sorted_input:v1"`},
		{"dangling input", func(p *pipepb.Pipeline) {
			tr := firstLeaf(p, urnParDo)
			for k := range tr.Inputs {
				tr.Inputs[k] = "ghost"
			}
		}, `reads PCollection "ghost", which is not defined`},
		{"malformed trigger", func(p *pipepb.Pipeline) {
			for _, ws := range p.GetComponents().GetWindowingStrategies() {
				ws.Trigger = &pipepb.Trigger{Trigger: &pipepb.Trigger_Repeat_{Repeat: &pipepb.Trigger_Repeat{
					Subtrigger: &pipepb.Trigger{Trigger: &pipepb.Trigger_ElementCount_{ElementCount: &pipepb.Trigger_ElementCount{ElementCount: 0}}}}}}
			}
		}, "its input's trigger: invalid trigger"},
		{"timer family without a time domain", func(p *pipepb.Pipeline) {
			tr := firstLeaf(p, urnParDo)
			var pd pipepb.ParDoPayload
			_ = proto.Unmarshal(tr.GetSpec().GetPayload(), &pd)
			pd.TimerFamilySpecs = map[string]*pipepb.TimerFamilySpec{"t": {TimerFamilyCoderId: "c"}}
			tr.Spec.Payload, _ = proto.Marshal(&pd)
		}, `timer family "t" has time domain UNSPECIFIED; Sluice supports event time and processing time`},
		{"on window expiration", func(p *pipepb.Pipeline) {
			tr := firstLeaf(p, urnParDo)
			var pd pipepb.ParDoPayload
			_ = proto.Unmarshal(tr.GetSpec().GetPayload(), &pd)
			pd.OnWindowExpirationTimerFamilySpec = "expiry"
			tr.Spec.Payload, _ = proto.Marshal(&pd)
		}, `asks for OnWindowExpiration (timer family "expiry"), which Sluice does not support yet`},
		{"unknown window coder", func(p *pipepb.Pipeline) {
			for _, ws := range p.GetComponents().GetWindowingStrategies() {
				p.GetComponents().Coders[ws.GetWindowCoderId()] = &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: "beam:coder:mystery_window:v1"}}
			}
		}, "the runner cannot read its coder"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := base()
			c.mutate(p)
			_, err := Plan(p, Options{Parallelism: 2})
			if err == nil {
				t.Fatalf("Plan succeeded, want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Plan error = %q, want it to contain %q", err, c.want)
			}
		})
	}
}

// Any trigger goes on session windows: the GroupByKey then merges sessions as elements
// arrive.
func TestPlanAcceptsTriggersOnMergingWindows(t *testing.T) {
	p := marshal(t, pipelines["sessions_cogbk"])
	for _, ws := range p.GetComponents().GetWindowingStrategies() {
		if ws.GetMergeStatus() == pipepb.MergeStatus_NEEDS_MERGE {
			ws.Trigger = &pipepb.Trigger{Trigger: &pipepb.Trigger_Always_{Always: &pipepb.Trigger_Always{}}}
		}
	}
	if _, err := Plan(p, Options{Parallelism: 2}); err != nil {
		t.Fatal(err)
	}
}

func TestPlanOptions(t *testing.T) {
	p := marshal(t, pipelines["wordcount"])
	if _, err := Plan(p, Options{Parallelism: 300}); err == nil {
		t.Error("parallelism above max parallelism was accepted")
	}
	g, err := Plan(p, Options{Parallelism: 3, MaxParallelism: 16})
	if err != nil {
		t.Fatal(err)
	}
	if g.MaxParallelism != 16 {
		t.Errorf("MaxParallelism = %d, want 16", g.MaxParallelism)
	}
	var kinds []string
	for _, s := range g.Stages {
		kinds = append(kinds, fmt.Sprintf("%s:%d", s.Kind, s.Parallelism))
	}
	if want := []string{"impulse:1", "sdk:1", "gbk:3", "sdk:3"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("stages = %v, want %v", kinds, want)
	}
}

// A stage with user state or timers gets StatefulParallelism subtasks: by default
// StatefulSubtasksPerCPU per CPU, never fewer than Parallelism, never more than
// MaxParallelism; the stages around it keep Parallelism.
func TestStatefulParallelism(t *testing.T) {
	p := marshal(t, pipelines["timers"])
	parallelisms := func(o Options) []string {
		t.Helper()
		g, err := Plan(p, o)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, s := range g.Stages {
			kinds = append(kinds, fmt.Sprintf("%s:%d", s.Kind, s.Parallelism))
		}
		return kinds
	}
	byDefault := min(128, max(3, StatefulSubtasksPerCPU*runtime.NumCPU()))
	for _, c := range []struct {
		opts Options
		want []string
	}{
		{Options{Parallelism: 3}, []string{"impulse:1", "sdk:1", fmt.Sprintf("sdk:%d", byDefault)}},
		{Options{Parallelism: 3, MaxParallelism: 8}, []string{"impulse:1", "sdk:1", "sdk:8"}},
		{Options{Parallelism: 3, StatefulParallelism: 5}, []string{"impulse:1", "sdk:1", "sdk:5"}},
		{Options{Parallelism: 6, MaxParallelism: 6}, []string{"impulse:1", "sdk:1", "sdk:6"}},
	} {
		if got := parallelisms(c.opts); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: stages = %v, want %v", c.opts, got, c.want)
		}
	}
	if _, err := Plan(p, Options{Parallelism: 2, StatefulParallelism: 200}); err == nil {
		t.Error("stateful parallelism above max parallelism was accepted")
	}
}

// A key coder only the SDK knows travels length-prefixed, so partitioning hashes the
// prefixed key; the key of a standard coder travels as the SDK writes it.
func TestKeyLengthPrefixed(t *testing.T) {
	for name, want := range map[string]bool{"timers": true, "flatten_gbk": false} {
		g, err := Plan(marshal(t, pipelines[name]), Options{Parallelism: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range g.Stages {
			if s.Kind == KindGroupByKey || len(s.TimerFamilies) > 0 {
				if got := g.KeyLengthPrefixed(s.Input); got != want {
					t.Errorf("%s: stage %s: KeyLengthPrefixed = %v, want %v", name, s.ID, got, want)
				}
			}
		}
	}
}
