package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"
)

// lpUser is a user type with its own Go coder, which Beam ships as
// beam:go:coder:custom:v1: opaque to the runner.
type lpUser struct {
	Name string
	Age  int
}

func encUser(u lpUser) ([]byte, error) { return json.Marshal(u) }
func decUser(b []byte) (lpUser, error) {
	var u lpUser
	err := json.Unmarshal(b, &u)
	return u, err
}

func init() {
	beam.RegisterCoder(reflect.TypeOf((*lpUser)(nil)).Elem(), encUser, decUser)
}

// lpRow has no registered coder, so the Go SDK uses beam:coder:row:v1,
// which the runner does not parse.
type lpRow struct {
	ID    int64
	Label string
}

func emitUsers(_ []byte, emit func(lpUser, int))                   {}
func consumeGroups(_ context.Context, _ lpUser, _ func(*int) bool) {}
func emitRows(_ []byte, emit func(lpRow, int64))                   {}
func consumeRows(_ lpRow, _ func(*int64) bool)                     {}

// userPipeline is Impulse -> ParDo (KV<lpUser, int>) -> GBK -> ParDo, as
// the Go SDK would submit it.
func userPipeline(t *testing.T) *pipepb.Pipeline {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	kvs := beam.ParDo(s, emitUsers, beam.Impulse(s))
	beam.ParDo0(s, consumeGroups, beam.GroupByKey(s, kvs))
	rows := beam.ParDo(s, emitRows, beam.Impulse(s))
	beam.ParDo0(s, consumeRows, beam.GroupByKey(s, rows))
	edges, _, err := p.Build()
	if err != nil {
		t.Fatal(err)
	}
	pb, err := graphx.Marshal(edges, &graphx.Options{Environment: &pipepb.Environment{Urn: "beam:env:docker:v1"}})
	if err != nil {
		t.Fatal(err)
	}
	return pb
}

func TestLengthPrefixPipelineCoders(t *testing.T) {
	pb := userPipeline(t)
	comps := pb.GetComponents()
	before := len(comps.GetCoders())
	rewrites, groups := 0, 0
	for pid, pc := range comps.GetPcollections() {
		id := pc.GetCoderId()
		if comps.GetCoders()[id].GetSpec().GetUrn() != URNKV {
			continue
		}
		_, origErr := NewCodec(comps, id)
		lp, err := LengthPrefixUnknownCoders(comps, id)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case origErr == nil && lp != id:
			t.Errorf("%s: parseable coder %q rewritten to %q", pid, id, lp)
		case origErr != nil && !errors.Is(origErr, ErrUnknownCoder):
			t.Errorf("%s: NewCodec(%q) = %v, want ErrUnknownCoder", pid, id, origErr)
		case origErr != nil && lp == id:
			t.Errorf("%s: unparseable coder %q not rewritten", pid, id)
		case origErr != nil:
			rewrites++
		}
		kvc, err := NewCodec(comps, lp)
		if err != nil {
			t.Fatalf("%s: rewritten coder %q not parseable: %v", pid, lp, err)
		}
		// Idempotent: again from the original, and from the result.
		if again, err := LengthPrefixUnknownCoders(comps, id); err != nil || again != lp {
			t.Errorf("second rewrite = %q, %v; want %q", again, err, lp)
		}
		if again, err := LengthPrefixUnknownCoders(comps, lp); err != nil || again != lp {
			t.Errorf("rewrite of result = %q, %v; want %q", again, err, lp)
		}
		// The SDK understands the rewritten coder; encode with it and
		// check that the runner cuts the same bytes.
		sdk, err := graphx.UnmarshalCoders([]string{lp}, comps.GetCoders())
		if err != nil {
			t.Fatalf("SDK cannot read rewritten coder: %v", err)
		}
		kc, vc := sdk[0].Components[0], sdk[0].Components[1]
		// (The SDK reads length_prefix<custom> back as its custom coder,
		// whose encoding is length-prefixed anyway.)
		var fv *exec.FullValue
		switch kc.T.Type() {
		case reflect.TypeOf(lpUser{}):
			fv = &exec.FullValue{Elm: lpUser{Name: "ada", Age: 36}, Elm2: 7}
			if vc.Kind == coder.Iterable {
				fv.Elm2 = []int{1, 2, 3}
			}
		case reflect.TypeOf(lpRow{}):
			fv = &exec.FullValue{Elm: lpRow{ID: -4, Label: "row"}, Elm2: int64(7)}
			if vc.Kind == coder.Iterable {
				fv.Elm2 = []int64{1, 2, 3}
			}
		default:
			t.Fatalf("%s: unexpected key type %v", pid, kc.T)
		}
		if vc.Kind == coder.Iterable {
			groups++
		}
		enc := sdkEncode(t, sdk[0], fv)
		if n, err := kvc.Skip(enc); err != nil || n != len(enc) {
			t.Errorf("%s: Skip = %d, %v; want %d", pid, n, err, len(enc))
		}
		k, _, err := kvc.(*KVCodec).Split(enc)
		if err != nil {
			t.Fatal(err)
		}
		if want := sdkEncode(t, kc, &exec.FullValue{Elm: fv.Elm}); !bytes.Equal(k, want) {
			t.Errorf("%s: key = %x, want %x", pid, k, want)
		}
	}
	if rewrites != 2 || groups != 2 {
		t.Errorf("saw %d rewrites and %d GBK outputs, want 2 and 2", rewrites, groups)
	}
	// The row coder is wrapped once and shared by both KV coders.
	if added := len(comps.GetCoders()) - before; added != 3 {
		t.Errorf("rewrite added %d coders, want 3 (lp row, two KVs)", added)
	}
}

func TestLengthPrefixNestedIterables(t *testing.T) {
	cc, err := coder.NewCustomCoder("user", reflect.TypeOf(lpUser{}), encUser, decUser)
	if err != nil {
		t.Fatal(err)
	}
	user := coder.CoderFrom(cc)
	nested := coder.NewKV([]*coder.Coder{coder.NewString(), coder.NewI(coder.NewI(user))})
	wv := coder.NewW(nested, coder.NewIntervalWindow())
	comps, ids := compsFor(t, wv, nested)
	orig := proto.Clone(comps).(*pipepb.Components)

	lp, err := LengthPrefixUnknownCoders(comps, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	// Original coders are untouched; the rewrite adds new ones.
	for id, c := range orig.GetCoders() {
		if !proto.Equal(c, comps.GetCoders()[id]) {
			t.Errorf("coder %q modified in place", id)
		}
	}
	c, err := NewWindowedValueCodec(comps, lp)
	if err != nil {
		t.Fatal(err)
	}
	// The element coder of the rewritten wv is the rewrite of `nested`.
	lpNested, err := LengthPrefixUnknownCoders(comps, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if got := comps.GetCoders()[lp].GetComponentCoderIds()[0]; got != lpNested {
		t.Errorf("wv element coder %q, want shared %q", got, lpNested)
	}
	// Structure: KV<string, iterable<iterable<length_prefix<custom>>>>.
	kv := comps.GetCoders()[lpNested]
	it1 := comps.GetCoders()[kv.GetComponentCoderIds()[1]]
	it2 := comps.GetCoders()[it1.GetComponentCoderIds()[0]]
	lpc := comps.GetCoders()[it2.GetComponentCoderIds()[0]]
	if it1.GetSpec().GetUrn() != URNIterable || it2.GetSpec().GetUrn() != URNIterable ||
		lpc.GetSpec().GetUrn() != URNLengthPrefix || comps.GetCoders()[lpc.GetComponentCoderIds()[0]].GetSpec().GetUrn() != "beam:go:coder:custom:v1" {
		t.Errorf("unexpected rewritten structure: %v / %v / %v / %v", kv, it1, it2, lpc)
	}

	sdk, err := graphx.UnmarshalCoders([]string{lp}, comps.GetCoders())
	if err != nil {
		t.Fatal(err)
	}
	val := [][]lpUser{{{Name: "a", Age: 1}, {Name: "b"}}, {}, {{Name: "c", Age: 3}}}
	elem := &exec.FullValue{Elm: "key", Elm2: val, Timestamp: 42, Windows: toSDKWindows([]Window{IntervalWindow{Start: 0, End: 60}}),
		Pane: toSDKPane(PaneNoFiring)}
	enc := sdkEncode(t, sdk[0], elem)
	got, n, err := c.Decode(enc)
	if err != nil || n != len(enc) || got.Timestamp != 42 {
		t.Fatalf("Decode = %+v, %d, %v", got, n, err)
	}
	kvc, _ := c.KV()
	k, v, err := kvc.Split(got.Element)
	if err != nil || !bytes.Equal(k, AppendLengthPrefixed(nil, []byte("key"))) {
		t.Errorf("Split key = %x, %v", k, err)
	}
	outer := kvc.Value.(*IterableCodec)
	var inner [][]byte
	if _, err := outer.ForEach(v, func(b []byte) error { inner = append(inner, b); return nil }); err != nil || len(inner) != 3 {
		t.Fatalf("ForEach = %d values, %v", len(inner), err)
	}

	// Nothing to do for a coder the runner already understands.
	known, kids := compsFor(t, coder.NewKV([]*coder.Coder{coder.NewString(), coder.NewI(coder.NewVarInt())}))
	n0 := len(known.GetCoders())
	if got, err := LengthPrefixUnknownCoders(known, kids[0]); err != nil || got != kids[0] || len(known.GetCoders()) != n0 {
		t.Errorf("known coder rewritten to %q (%v), %d coders", got, err, len(known.GetCoders()))
	}
}

func TestLengthPrefixIDCollision(t *testing.T) {
	comps := coders(map[string]*pipepb.Coder{
		"u":    leaf("beam:go:coder:custom:v1"),
		"u_lp": leaf(URNBytes), // someone else's coder under our preferred id
	})
	got, err := LengthPrefixUnknownCoders(comps, "u")
	if err != nil || got != "u_lp2" {
		t.Fatalf("rewrite = %q, %v; want u_lp2", got, err)
	}
	if again, _ := LengthPrefixUnknownCoders(comps, "u"); again != "u_lp2" || len(comps.Coders) != 3 {
		t.Errorf("second rewrite = %q with %d coders", again, len(comps.Coders))
	}
	if _, err := LengthPrefixUnknownCoders(comps, "nope"); err == nil {
		t.Error("missing coder: no error")
	}
	bad := coders(map[string]*pipepb.Coder{"kv": leaf(URNKV, "u")})
	if _, err := LengthPrefixUnknownCoders(bad, "kv"); !errors.Is(err, ErrMalformed) {
		t.Errorf("KV with one component: %v", err)
	}
}
