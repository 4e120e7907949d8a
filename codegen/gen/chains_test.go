package gen

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/sluice-runner/sluice/codegen/capture"
)

func lines(_ []byte, emit func(string)) { emit("a b") }

func keyedCtx(ctx context.Context, w string) (string, int, error) { return w, 1, nil }

func withWindow(w beam.Window, s string) string { return s }

func withSide(s string, side []string, emit func(string)) { emit(s) }

func twoOutputs(s string, a func(string), b func(int)) { a(s); b(len(s)) }

func sinkString(string) {}

func keyedByDouble(s string) (float64, int) { return float64(len(s)), 1 }

func keyedByBool(s string) (bool, int) { return len(s) > 1, 1 }

func keyedByFloat32(s string) (float32, int) { return float32(len(s)), 1 }

// Region is a struct key (the SDK codes it as a row); region one the generated package
// cannot name.
type Region struct{ Country, City string }

type region struct{ Country, City string }

func keyedByRegion(s string) (Region, int) { return Region{City: s}, 1 }

func keyedByUnexported(s string) (region, int) { return region{City: s}, 1 }

func sinkInt(int) {}

// sumFn is a struct CombineFn of a merge method.
type sumFn struct{}

func (sumFn) MergeAccumulators(a, b int) int { return a + b }

func init() {
	beam.RegisterType(reflect.TypeOf(sumFn{}))
	beam.RegisterType(reflect.TypeOf(Region{}))
	beam.RegisterType(reflect.TypeOf(region{}))
}

// prefixFn is a struct DoFn with lifecycle methods; windowFn one with a window parameter.
type prefixFn struct{ Prefix string }

func (f *prefixFn) Setup(ctx context.Context) error            { return nil }
func (f *prefixFn) StartBundle(emit func(string))              {}
func (f *prefixFn) ProcessElement(s string, emit func(string)) { emit(f.Prefix + s) }
func (f *prefixFn) FinishBundle(ctx context.Context, emit func(string)) error {
	return nil
}
func (f *prefixFn) Teardown() {}

type windowFn struct{}

func (windowFn) ProcessElement(w beam.Window, s string) string { return s }

func init() {
	beam.RegisterType(reflect.TypeOf((*prefixFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf(windowFn{}))
}

// stages records the pipeline build makes (from an Impulse) and returns its SDK stages.
func stages(t *testing.T, build func(s beam.Scope, lines beam.PCollection)) []Stage {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	build(s, beam.ParDo(s.Scope("Lines"), lines, beam.Impulse(s)))
	c, err := capture.Record(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(a, Options{}); err != nil {
		t.Fatal(err)
	}
	var sdk []Stage
	for _, st := range a.Stages {
		if st.Kind == "sdk" {
			sdk = append(sdk, st)
		}
	}
	return sdk
}

func TestChainCoverage(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(s beam.Scope, lines beam.PCollection)
		// why per SDK stage, in plan order: "" for a native stage.
		why []string
	}{
		{"count", func(s beam.Scope, l beam.PCollection) {
			words := beam.ParDo(s, splitWords, l)
			beam.ParDo0(s, sinkString, beam.ParDo(s, formatKV, stats.Count(s, words)))
		}, []string{"", ""}},
		{"context and error", func(s beam.Scope, l beam.PCollection) {
			beam.ParDo0(s, sinkInt, beam.DropKey(s, beam.ParDo(s, keyedCtx, l)))
		}, []string{""}}, // beam.DropKey's generic dropKey too, through its declared signature
		{"two outputs", func(s beam.Scope, l beam.PCollection) {
			a, b := beam.ParDo2(s, twoOutputs, l)
			beam.ParDo0(s, sinkString, a)
			beam.ParDo0(s, sinkInt, b)
		}, []string{""}},
		{"window parameter", func(s beam.Scope, l beam.PCollection) {
			beam.ParDo0(s, sinkString, beam.ParDo(s, withWindow, l))
		}, []string{""}},
		{"side input", func(s beam.Scope, l beam.PCollection) {
			beam.ParDo0(s, sinkString, beam.ParDo(s, withSide, l, beam.SideInput{Input: l}))
		}, []string{"", "side input"}},
		{"struct CombineFn", func(s beam.Scope, l beam.PCollection) {
			kv := beam.ParDo(s, keyedCtx, l)
			beam.CombinePerKey(s, sumFn{}, kv)
		}, []string{"", ""}},
		{"CombineFn of double keys", func(s beam.Scope, l beam.PCollection) {
			beam.CombinePerKey(s, sumFn{}, beam.ParDo(s, keyedByDouble, l))
		}, []string{"its key float64 (double): the Go SDK's lifted combine fails on it", ""}},
		{"CombineFn of bool keys", func(s beam.Scope, l beam.PCollection) {
			beam.CombinePerKey(s, sumFn{}, beam.ParDo(s, keyedByBool, l))
		}, []string{"its key bool (bool): the Go SDK's lifted combine fails on it", ""}},
		// Keys the SDK codes with a coder rt does not know are told apart by their encoding.
		{"CombineFn of float32 keys", func(s beam.Scope, l beam.PCollection) {
			beam.CombinePerKey(s, sumFn{}, beam.ParDo(s, keyedByFloat32, l))
		}, []string{"", ""}},
		{"CombineFn of struct keys", func(s beam.Scope, l beam.PCollection) {
			beam.CombinePerKey(s, sumFn{}, beam.ParDo(s, keyedByRegion, l))
		}, []string{"", ""}},
		{"CombineFn of struct keys the generated package cannot name", func(s beam.Scope, l beam.PCollection) {
			beam.CombinePerKey(s, sumFn{}, beam.ParDo(s, keyedByUnexported, l))
		}, []string{"", ""}},
		{"fixed windows", func(s beam.Scope, l beam.PCollection) {
			beam.ParDo0(s, sinkString, beam.WindowInto(s, window.NewFixedWindows(60e9), l))
		}, []string{""}},
		{"sliding windows, a window parameter, a lifted combine", func(s beam.Scope, l beam.PCollection) {
			sliding := beam.WindowInto(s, window.NewSlidingWindows(10e9, 60e9), l)
			beam.ParDo0(s, sinkString, beam.ParDo(s, formatKV, stats.Count(s, beam.ParDo(s, withWindow, sliding))))
		}, []string{"", ""}},
		{"struct DoFn emitting from its lifecycle into fixed windows", func(s beam.Scope, l beam.PCollection) {
			fixed := beam.WindowInto(s, window.NewFixedWindows(60e9), l)
			beam.ParDo0(s, sinkString, beam.ParDo(s, &prefixFn{Prefix: "> "}, fixed))
		}, []string{"its StartBundle emits into interval windows"}},
		{"struct DoFn in sessions, back into the global window", func(s beam.Scope, l beam.PCollection) {
			sessions := beam.WindowInto(s, window.NewSessions(60e9), beam.ParDo(s, withWindow, l))
			beam.ParDo0(s, sinkString, beam.ParDo(s, &prefixFn{Prefix: "> "}, beam.WindowInto(s, window.NewGlobalWindows(), sessions)))
		}, []string{""}},
		{"struct DoFn", func(s beam.Scope, l beam.PCollection) {
			beam.ParDo0(s, sinkString, beam.ParDo(s, &prefixFn{Prefix: "> "}, l))
		}, []string{""}},
		{"struct DoFn with a window parameter", func(s beam.Scope, l beam.PCollection) {
			beam.ParDo0(s, sinkString, beam.ParDo(s, windowFn{}, l))
		}, []string{""}},
		{"create", func(s beam.Scope, l beam.PCollection) {
			beam.ParDo0(s, sinkString, beam.Create(s, "x"))
		}, []string{"", ""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sdk := stages(t, c.build)
			if len(sdk) != len(c.why) {
				for _, st := range sdk {
					t.Logf("stage %s native %v why %q", st.ID, st.Native, st.Why)
				}
				t.Fatalf("%d SDK stages, want %d", len(sdk), len(c.why))
			}
			for i, st := range sdk {
				want := c.why[i]
				switch {
				case want == "" && !st.Native:
					t.Errorf("stage %s is not native: %s", st.ID, st.Why)
				case want != "" && (st.Native || !strings.Contains(st.Why, want)):
					t.Errorf("stage %s: native %v, why %q; want not native because %q", st.ID, st.Native, st.Why, want)
				}
			}
		})
	}
}

func formatKV(w string, n int) string { return w }

func TestParseType(t *testing.T) {
	for _, s := range []string{
		"string", "[]uint8", "*main.point", "map[string][]int", "interface {}",
		"func(string, func(string))",
		"func(github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex.T) (github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex.T, int)",
		"func(context.Context, int) error",
		"func(func(string) int) (int, error)",
	} {
		typ, err := parseType(s)
		if err != nil || typ.str != s {
			t.Errorf("%s: parsed as %q, %v", s, typ.str, err)
		}
	}
	for _, s := range []string{"[3]int", "chan int", "func(...int)", "struct {}", "main.g[int]", "x y", "unknown"} {
		if _, err := parseType(s); err == nil {
			t.Errorf("%s: parsed", s)
		}
	}
	typ, _ := parseType("github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex.T")
	if !typ.universal() {
		t.Error("typex.T is not universal")
	}
}
