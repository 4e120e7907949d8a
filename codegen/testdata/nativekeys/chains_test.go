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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"

	"github.com/sluice-runner/sluice/codegen/rt"
	"github.com/sluice-runner/sluice/codegen/testdata/internal/chaintest"
	"github.com/sluice-runner/sluice/codegen/testdata/nativekeys/internal/zone"
)

// nEvents is how many values the test makes.
const nEvents = 400

// planned captures the pipeline and plans it as sluicegen does: stage s1's env.
func planned(t *testing.T) *chaintest.Env {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	build(s, nEvents)
	env := chaintest.Plan(t, p, "nativekeys", "s1")
	if len(env.Outs) != 5 {
		t.Fatalf("stage s1 has %d outputs, want 5", len(env.Outs))
	}
	return env
}

// runChain runs one bundle of stage s1's chain on the impulse and returns what it wrote
// to each output.
func runChain(t *testing.T, env *chaintest.Env) [][]byte {
	t.Helper()
	return chaintest.Run(t, sluiceStages, "s1", env, chaintest.ImpulseHeader, sluiceAppendS0ToS1(nil, []byte{}))
}

// resolve is a function of the SDK's stats package, as its harness finds it by name.
func resolve[F any](t *testing.T, name string) any {
	t.Helper()
	return chaintest.Resolve[F](t, "github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats."+name)
}

// runSDK runs the impulse through the SDK's nodes: makeValuesFn, then the nodes of
// branch, the first of which it feeds, and returns what snk (the last) encoded.
func runSDK(t *testing.T, snk *chaintest.Sink, branch ...exec.Node) []byte {
	t.Helper()
	values := &exec.ParDo{UID: 1, Fn: chaintest.DoFn(t, &makeValuesFn{Events: nEvents}), Out: []exec.Node{branch[0]}}
	return chaintest.RunImpulse(t, snk, append([]exec.Node{values}, branch...)...)
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
			return []exec.Node{&exec.ParDo{UID: 2, Fn: chaintest.DoFn(t, tagOf), Out: []exec.Node{next}}}
		}, 2},
		{"zones", sumInt, func(next exec.Node) []exec.Node {
			return []exec.Node{&exec.ParDo{UID: 2, Fn: chaintest.DoFn(t, zone.Of), Out: []exec.Node{next}}}
		}, 5},
		{"regions", sumInt, func(next exec.Node) []exec.Node {
			return []exec.Node{&exec.ParDo{UID: 2, Fn: chaintest.DoFn(t, regionOf), Out: []exec.Node{next}}}
		}, 4},
		{"float32s", sumInt, func(next exec.Node) []exec.Node {
			count := &exec.ParDo{UID: 3, Fn: chaintest.DoFn(t, keyed), Out: []exec.Node{next}}
			return []exec.Node{&exec.ParDo{UID: 2, Fn: chaintest.DoFn(t, toFloat32), Out: []exec.Node{count}}, count}
		}, 7},
		{"regions in fixed windows", sumInt, func(next exec.Node) []exec.Node {
			into := &exec.WindowInto{UID: 3, Fn: window.NewFixedWindows(2 * time.Second), Out: next}
			return []exec.Node{&exec.ParDo{UID: 2, Fn: chaintest.DoFn(t, regionOf), Out: []exec.Node{into}}, into}
		}, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfn, err := graph.NewCombineFn(c.fn)
			if err != nil {
				t.Fatal(err)
			}
			out := env.Outs[i]
			snk := chaintest.NewSink(out)
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
