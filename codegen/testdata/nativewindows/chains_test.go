package main

// This test runs the chain sluicegen generated for this package's first stage
// (nativewindows_sluice.go, which codegen's tests add with a build overlay) the way the
// native harness does, and runs the Go SDK's own exec nodes (ParDo, WindowInto,
// LiftedCombine) on the same impulse: the sliding-windowed, per-window keyed elements
// must be the SDK's byte for byte (headers included: times, panes and windows, one
// element per window for the DoFn that takes its window), and the partial counts the
// SDK's per key and window (in the SDK's cache order, which is a map's, and with the
// header's pane aside: see below).

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
)

// nEvents is how many events the tests make.
const nEvents = 300

// planned captures the pipeline and plans it as sluicegen does: stage s1's env.
func planned(t *testing.T) *chaintest.Env {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	build(s, nEvents)
	env := chaintest.Plan(t, p, "nativewindows", "s1")
	if len(env.Outs) != 4 {
		t.Fatalf("stage s1 has %d outputs, want 4", len(env.Outs))
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

// runSDK runs the impulse through the SDK's nodes: makeEventsFn, WindowInto(fn), then
// tail (which writes to snk, through the nodes after it), and returns what snk encoded.
func runSDK(t *testing.T, fn *window.Fn, snk *chaintest.Sink, tail exec.Node, after ...exec.Node) []byte {
	t.Helper()
	into := &exec.WindowInto{UID: 2, Fn: fn, Out: tail}
	events := &exec.ParDo{UID: 1, Fn: chaintest.DoFn(t, &makeEventsFn{Events: nEvents}), Out: []exec.Node{into}}
	return chaintest.RunImpulse(t, snk, append([]exec.Node{events, into, tail}, after...)...)
}

// The sliding windows' per-window keys: windowKey takes its window, so the SDK calls it
// once per window of each element; the chain writes the same bytes.
func TestWindowKeyMatchesSDK(t *testing.T) {
	env := planned(t)
	got := runChain(t, env)[0]
	snk := chaintest.NewSink(env.Outs[0])
	key := &exec.ParDo{UID: 3, Fn: chaintest.DoFn(t, windowKey), Out: []exec.Node{snk}}
	want := runSDK(t, window.NewSlidingWindows(time.Second, 3*time.Second), snk, key)
	if len(want) == 0 || !bytes.Equal(got, want) {
		t.Errorf("WindowKey output: chain wrote %d bytes, the SDK %d:\nchain %x\nSDK   %x", len(got), len(want), got, want)
	}
}

// partial is a precombine's output element: its header's time and windows, key and count.
type partial struct {
	ts      int64
	windows string
	key     string
	count   int
}

func partials(t *testing.T, b []byte) []partial {
	t.Helper()
	var ps []partial
	for len(b) > 0 {
		h, m, err := rt.DecodeIntervalHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		k, v, n, err := sluiceDecodeS1ToS3(b[m:]) // the four outputs' values are all KV<string, int>
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, partial{h.Timestamp, string(h.Windows), k, v})
		b = b[m+n:]
	}
	slices.SortFunc(ps, func(a, b partial) int {
		return strings.Compare(a.windows+"\x00"+a.key, b.windows+"\x00"+b.key)
	})
	return ps
}

// The lifted combines' partial counts are the SDK's LiftedCombine's, per key and window,
// each at its key's last element's time. Panes are left out: the SDK's cache writes the
// zero pane, the chain its key's last element's (the runner's grouping reads neither).
func TestPartialCountsMatchSDK(t *testing.T) {
	env := planned(t)
	got := runChain(t, env)
	sumInt := resolve[func(int, int) int](t, "sumIntFn")
	keyed := resolve[func(beam.T) (beam.T, int)](t, "keyedCountFn")
	for i, fn := range []*window.Fn{window.NewSessions(300 * time.Millisecond), window.NewFixedWindows(2 * time.Second), window.NewSlidingWindows(time.Second, 3*time.Second)} {
		cfn, err := graph.NewCombineFn(sumInt)
		if err != nil {
			t.Fatal(err)
		}
		out := env.Outs[i+1]
		snk := chaintest.NewSink(out)
		lifted := &exec.LiftedCombine{Combine: &exec.Combine{UID: 4, Fn: cfn, Out: snk}, KeyCoder: coder.SkipW(out).Components[0], WindowCoder: out.Window}
		count := &exec.ParDo{UID: 3, Fn: chaintest.DoFn(t, keyed), Out: []exec.Node{lifted}}
		want := partials(t, runSDK(t, fn, snk, count, lifted))
		if g := partials(t, got[i+1]); len(want) == 0 || !slices.Equal(g, want) {
			t.Errorf("%v: chain's partial counts (%d) differ from the SDK's (%d):\nchain %v\nSDK   %v", fn, len(g), len(want), g, want)
		}
	}
}
