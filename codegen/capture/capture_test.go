package capture

import (
	"bytes"
	"context"
	"go/format"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"google.golang.org/protobuf/proto"
)

func splitFn(line string, emit func(string)) {
	for _, w := range strings.Fields(line) {
		emit(w)
	}
}

// suffixFn appends Suffix and the number of side-input words to each word.
type suffixFn struct{ Suffix string }

func (f *suffixFn) Setup() {}

func (f *suffixFn) ProcessElement(w string, side []string, emit func(string)) {
	emit(w + f.Suffix + string(rune('0'+len(side))))
}

func init() {
	beam.RegisterType(reflect.TypeOf((*suffixFn)(nil)).Elem())
}

func build(suffix string) *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	lines := beam.Create(s, "a b", "c")
	words := beam.ParDo(s.Scope("Split"), splitFn, lines)
	side := beam.Create(s, "x")
	suffixed := beam.ParDo(s.Scope("Suffix"), &suffixFn{Suffix: suffix}, words, beam.SideInput{Input: side})
	stats.Count(s.Scope("Count"), suffixed)
	return p
}

func record(t *testing.T, suffix string) *Capture {
	t.Helper()
	c, err := Record(context.Background(), build(suffix))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func edgeByScope(t *testing.T, c *Capture, op, scope string) Edge {
	t.Helper()
	for _, e := range c.Edges {
		if e.Op == op && e.Scope == scope {
			return e
		}
	}
	t.Fatalf("no %s edge in scope %q:\n%s", op, scope, c.Summary())
	return Edge{}
}

func TestRecordFacts(t *testing.T) {
	c := record(t, "!")
	comps := c.Pipeline.GetComponents()

	split := edgeByScope(t, c, "ParDo", "Split")
	if split.Fn.Kind != "func" || split.Fn.Name != "github.com/sluice-runner/sluice/codegen/capture.splitFn" {
		t.Errorf("split fn = %+v", split.Fn)
	}
	pe := split.Fn.Methods[0]
	if pe.Name != "ProcessElement" || len(pe.Params) != 2 || pe.Params[0] != (Param{"Value", "string"}) || pe.Params[1] != (Param{"Emit", "func(string)"}) {
		t.Errorf("split ProcessElement = %+v", pe)
	}
	if tr := comps.GetTransforms()[split.ID]; tr == nil || tr.GetUniqueName() != "Split/capture.splitFn" {
		t.Errorf("edge id %s does not name the split transform in the proto: %v", split.ID, tr)
	}

	suffix := edgeByScope(t, c, "ParDo", "Suffix")
	if suffix.Fn.Kind != "struct" || suffix.Fn.Type != "*github.com/sluice-runner/sluice/codegen/capture.suffixFn" {
		t.Errorf("suffix fn = %+v", suffix.Fn)
	}
	var names []string
	for _, m := range suffix.Fn.Methods {
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "Setup,ProcessElement" {
		t.Errorf("suffix methods = %v", names)
	}
	if len(suffix.Inputs) != 2 || suffix.Inputs[0].Kind != "Main" || suffix.Inputs[1].Kind != "Slice" {
		t.Errorf("suffix inputs = %+v", suffix.Inputs)
	}
	if suffix.Inputs[0].Coder != "string" || suffix.Inputs[0].Type != "string" || !suffix.Inputs[0].Bounded {
		t.Errorf("suffix main input = %+v", suffix.Inputs[0])
	}

	comb := edgeByScope(t, c, "Combine", "Count/stats.Count/stats.SumPerKey/CombinePerKey")
	if comb.Composite == "" || comps.GetTransforms()[comb.Composite].GetSpec().GetUrn() != "beam:transform:combine_per_key:v1" {
		t.Errorf("combine composite %q is not the combine_per_key transform", comb.Composite)
	}
	if comb.AccumCoder == "" || comb.Fn == nil || comb.Fn.Methods[0].Name != "MergeAccumulators" {
		t.Errorf("combine = %+v", comb)
	}

	// A generic function sees T where the PCollection holds string.
	keyed := edgeByScope(t, c, "ParDo", "Count/stats.Count")
	if keyed.Inputs[0].Type != "string" || keyed.Inputs[0].FnType != "T" {
		t.Errorf("keyedCountFn input = %+v", keyed.Inputs[0])
	}
}

// TestMarshalDeterministic: two constructions of the same pipeline give the same bytes,
// and a capture survives a round trip through its file format.
func TestMarshalDeterministic(t *testing.T) {
	a, err := Marshal(record(t, "!"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(record(t, "!"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two captures of the same pipeline marshal differently")
	}
	path := filepath.Join(t.TempDir(), "capture.json")
	c := record(t, "!")
	if err := WriteFile(path, c); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(back.Pipeline, c.Pipeline) || !reflect.DeepEqual(back.Edges, c.Edges) {
		t.Error("capture changed through WriteFile/ReadFile")
	}
}

func TestUnmarshalRefusesOtherFormats(t *testing.T) {
	if _, err := Unmarshal([]byte(`{"format": 99}`)); err == nil || !strings.Contains(err.Error(), "format 99") {
		t.Errorf("err = %v", err)
	}
	if _, err := Unmarshal([]byte(`not json`)); err == nil {
		t.Error("no error for garbage")
	}
}

type named struct{}

func TestTypeString(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{0, "int"},
		{"", "string"},
		{[]byte(nil), "[]uint8"},
		{&named{}, "*github.com/sluice-runner/sluice/codegen/capture.named"},
		{map[string][]named{}, "map[string][]github.com/sluice-runner/sluice/codegen/capture.named"},
		{func(string, func(int)) error { return nil }, "func(string, func(int)) error"},
		{func(...int) (int, bool) { return 0, false }, "func(...int) (int, bool)"},
		{[2]int{}, "[2]int"},
		{make(<-chan int), "<-chan int"},
	} {
		if got := TypeString(reflect.TypeOf(tc.v)); got != tc.want {
			t.Errorf("TypeString(%T) = %q, want %q", tc.v, got, tc.want)
		}
	}
	if got := FullTypeString(typex.NewKV(typex.New(reflect.TypeOf("")), typex.New(reflect.TypeOf(named{})))); got != "KV<string,github.com/sluice-runner/sluice/codegen/capture.named>" {
		t.Errorf("FullTypeString(KV) = %q", got)
	}
}

func TestOverlaySourceIsGofmtClean(t *testing.T) {
	src := []byte(OverlaySource("main"))
	formatted, err := format.Source(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(formatted, src) {
		t.Errorf("overlay file is not gofmt-clean:\n%s", src)
	}
}

// The refusals below happen before anything is built.
func TestRunRefusals(t *testing.T) {
	ctx := context.Background()
	if _, err := Run(ctx, Options{Dir: t.TempDir(), Package: "main", Args: []string{"--runner=direct"}}); err == nil || !strings.Contains(err.Error(), "--runner") {
		t.Errorf("--runner in the pipeline flags: err = %v", err)
	}
	if _, err := Build(ctx, Options{Dir: t.TempDir(), Package: "lib"}); err == nil || !strings.Contains(err.Error(), "main package") {
		t.Errorf("non-main package: err = %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, OverlayFileName), []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(ctx, Options{Dir: dir, Package: "main"}); err == nil || !strings.Contains(err.Error(), OverlayFileName) {
		t.Errorf("overlay file present: err = %v", err)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	b.Write([]byte("0123456789"))
	b.Write([]byte("ab"))
	if got := string(b.Bytes()); got != "...\n456789ab" {
		t.Errorf("tail = %q", got)
	}
}
