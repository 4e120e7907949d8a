package fingerprint_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/cockroachdb/datadriven"

	"github.com/sluice-runner/sluice/codegen/fingerprint"
	"github.com/sluice-runner/sluice/runner/plan"
)

func splitWords(line string, emit func(string)) {
	for _, w := range strings.Fields(line) {
		emit(w)
	}
}

func lowerWords(line string, emit func(string)) {
	for _, w := range strings.Fields(line) {
		emit(strings.ToLower(w))
	}
}

// lengths emits word lengths: another output coder than splitWords'.
func lengths(line string, emit func(int)) {
	for _, w := range strings.Fields(line) {
		emit(len(w))
	}
}

// tagFn appends Tag to each element: its Tag is configuration.
type tagFn struct{ Tag string }

func (f *tagFn) ProcessElement(x string) string { return x + f.Tag }

func init() {
	beam.RegisterType(reflect.TypeOf((*tagFn)(nil)).Elem())
}

// variant says how to build the test pipeline: impulse | split | count | tag.
type variant struct {
	split any    // splitWords, lowerWords or lengths
	tag   string // tagFn's configuration
}

func build(v variant) *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	words := beam.ParDo(s.Scope("Split"), v.split, beam.Create(s, "a b", "B c"))
	counted := stats.Count(s.Scope("Count"), words)
	formatted := beam.ParDo(s.Scope("Format"), func(k beam.X, n int) string { return fmt.Sprint(k, n) }, counted)
	beam.ParDo(s.Scope("Tag"), &tagFn{Tag: v.tag}, formatted)
	return p
}

var base = variant{split: splitWords, tag: "!"}

// planned builds, marshals and plans a variant as sluicegen and the runner would.
func planned(t *testing.T, v variant) *plan.JobGraph {
	return plannedIn(t, v, graphx.URNEnvExternal, "localhost:1")
}

// plannedIn is planned with the environment the pipeline is marshalled with.
func plannedIn(t *testing.T, v variant, envURN, envConfig string) *plan.JobGraph {
	t.Helper()
	edges, _, err := build(v).Build()
	if err != nil {
		t.Fatal(err)
	}
	env, err := graphx.CreateEnvironment(context.Background(), envURN, func(context.Context) string { return envConfig })
	if err != nil {
		t.Fatal(err)
	}
	p, err := graphx.Marshal(edges, &graphx.Options{Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	g, err := plan.Plan(p, plan.Options{Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func stageOf(s *plan.Stage) fingerprint.Stage {
	return fingerprint.Stage{Transforms: s.Transforms, Input: s.Input, Outputs: s.Outputs}
}

// fingerprints maps SDK stage id to fingerprint.
func fingerprints(t *testing.T, g *plan.JobGraph) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, s := range g.Stages {
		if s.Kind != plan.KindSDK {
			continue
		}
		fp, err := fingerprint.Of(g.Components, stageOf(s))
		if err != nil {
			t.Fatal(err)
		}
		if len(fp) != 32 {
			t.Fatalf("fingerprint %q is not 32 hex digits", fp)
		}
		m[s.ID] = fp
	}
	if len(m) < 2 {
		t.Fatalf("want at least two SDK stages, got %v", m)
	}
	return m
}

// stageHolding returns the id of the stage with a transform whose name starts with prefix.
func stageHolding(t *testing.T, g *plan.JobGraph, prefix string) string {
	t.Helper()
	for _, s := range g.Stages {
		for _, id := range s.Transforms {
			if strings.HasPrefix(g.Components.GetTransforms()[id].GetUniqueName(), prefix) {
				return s.ID
			}
		}
	}
	t.Fatalf("no stage holds %s", prefix)
	return ""
}

// moved lists the stages whose fingerprints differ.
func moved(a, b map[string]string) []string {
	var out []string
	for _, id := range sortedKeys(a) {
		if a[id] != b[id] {
			out = append(out, id)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

func TestStableAcrossConstructions(t *testing.T) {
	a, b := fingerprints(t, planned(t, base)), fingerprints(t, planned(t, base))
	if m := moved(a, b); len(m) > 0 {
		t.Errorf("two constructions of the same pipeline differ in stages %v", m)
	}
}

// TestEnvironmentDoesNotMatter: sluicegen captures with a placeholder environment; the
// runner receives the same pipeline with the submitter's (loopback, docker...).
func TestEnvironmentDoesNotMatter(t *testing.T) {
	a := fingerprints(t, planned(t, base))
	b := fingerprints(t, plannedIn(t, base, graphx.URNEnvDocker, "apache/beam_go_sdk:2.77.0"))
	if m := moved(a, b); len(m) > 0 {
		t.Errorf("another environment moved stages %v", m)
	}
}

func TestChanges(t *testing.T) {
	g := planned(t, base)
	want := fingerprints(t, g)
	split := stageHolding(t, g, "Split/")
	for _, tc := range []struct {
		name  string
		v     variant
		moved []string
	}{
		// Configuration is data: generated code reads it from the payload.
		{"tag config", variant{split: splitWords, tag: "?"}, nil},
		// Another function in one stage moves that stage only.
		{"other DoFn", variant{split: lowerWords, tag: "!"}, []string{split}},
		// Another element type changes coders: the stage making them and the stage after
		// the combine, which now extracts and formats ints.
		{"other types", variant{split: lengths, tag: "!"}, sortedKeys(want)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fingerprints(t, planned(t, tc.v))
			if m := moved(want, got); fmt.Sprint(m) != fmt.Sprint(tc.moved) {
				t.Errorf("stages that moved: %v, want %v", m, tc.moved)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	g := planned(t, base)
	if _, err := fingerprint.Of(g.Components, fingerprint.Stage{Transforms: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown transform: err = %v", err)
	}
	s := g.Stages[1]
	broken := &pipepb.Components{Transforms: g.Components.GetTransforms()}
	if _, err := fingerprint.Of(broken, stageOf(s)); err == nil || !strings.Contains(err.Error(), "not defined") {
		t.Errorf("missing PCollections: err = %v", err)
	}
}

// TestDescribe shows what is hashed, stage by stage, for testdata/describe.txt. Regenerate
// with go test ./codegen/fingerprint -run TestDescribe -rewrite.
//
//	describe [split=split|lower|lengths] [tag=T]   prints every SDK stage's description
func TestDescribe(t *testing.T) {
	datadriven.RunTest(t, "testdata/describe.txt", func(t *testing.T, d *datadriven.TestData) string {
		if d.Cmd != "describe" {
			d.Fatalf(t, "unknown directive %q", d.Cmd)
		}
		v := base
		if d.HasArg("split") {
			var s string
			d.ScanArgs(t, "split", &s)
			v.split = map[string]any{"split": splitWords, "lower": lowerWords, "lengths": lengths}[s]
		}
		if d.HasArg("tag") {
			d.ScanArgs(t, "tag", &v.tag)
		}
		g := planned(t, v)
		var b strings.Builder
		for _, s := range g.Stages {
			if s.Kind != plan.KindSDK {
				continue
			}
			lines, err := fingerprint.Describe(g.Components, stageOf(s))
			if err != nil {
				t.Fatal(err)
			}
			fp, _ := fingerprint.Of(g.Components, stageOf(s))
			fmt.Fprintf(&b, "stage %s %s\n", s.ID, fp)
			for _, l := range lines {
				fmt.Fprintf(&b, "  %s\n", l)
			}
		}
		return b.String()
	})
}
