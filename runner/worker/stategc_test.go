package worker

import (
	"testing"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/runner/window"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/state"
)

// The state of a window goes once the watermark passes its end plus the allowed lateness:
// bags and map entries alike, of every key that wrote there, and nothing of other windows.
func TestStateGCDropsTheStateOfExpiredWindows(t *testing.T) {
	comps := &pipepb.Components{Coders: map[string]*pipepb.Coder{"w": {Spec: &pipepb.FunctionSpec{Urn: "beam:coder:interval_window:v1"}}}}
	codec, err := wire.NewWindowCodec(comps, "w")
	if err != nil {
		t.Fatal(err)
	}
	gc := NewStateGC(window.Strategy{AllowedLateness: 5}, codec, map[string][]string{"t": {"count", "seen"}})
	store := state.NewMemStore()
	u := &userState{store: store, gc: gc}
	win := func(start int64) []byte { return codec.Append(nil, wire.IntervalWindow{Start: start, End: start + 10}) }
	bag := func(w []byte, key string) *fnpb.StateKey {
		return &fnpb.StateKey{Type: &fnpb.StateKey_BagUserState_{BagUserState: &fnpb.StateKey_BagUserState{
			TransformId: "t", UserStateId: "count", Window: w, Key: []byte(key)}}}
	}
	entry := func(w []byte, key string) *fnpb.StateKey {
		return &fnpb.StateKey{Type: &fnpb.StateKey_MultimapUserState_{MultimapUserState: &fnpb.StateKey_MultimapUserState{
			TransformId: "t", UserStateId: "seen", Window: w, Key: []byte(key), MapKey: []byte("m")}}}
	}
	for _, w := range [][]byte{win(0), win(10)} {
		for _, k := range []string{"a", "b"} {
			call(t, u, bag(w, k), &fnpb.StateAppendRequest{Data: []byte("1")})
			call(t, u, entry(w, k), &fnpb.StateAppendRequest{Data: []byte("2")})
		}
	}
	get := func(k *fnpb.StateKey) string {
		return string(call(t, u, k, &fnpb.StateGetRequest{}).GetGet().GetData())
	}

	// [0,10) has max timestamp 9 and expires after 9+5: not at watermark 14.
	if n, err := u.expire(14); err != nil || n != 0 {
		t.Fatalf("expire(14) = %d, %v; want nothing expired", n, err)
	}
	if n, err := u.expire(15); err != nil || n != 2 {
		t.Fatalf("expire(15) = %d, %v; want the 2 keys of [0,10)", n, err)
	}
	for _, k := range []string{"a", "b"} {
		if got := get(bag(win(0), k)); got != "" {
			t.Errorf("bag of %s in [0,10) = %q after it expired", k, got)
		}
		if got := get(entry(win(0), k)); got != "" {
			t.Errorf("map entry of %s in [0,10) = %q after it expired", k, got)
		}
		if got := get(bag(win(10), k)); got != "1" {
			t.Errorf("bag of %s in [10,20) = %q, want it kept", k, got)
		}
		if got := get(entry(win(10), k)); got != "2" {
			t.Errorf("map entry of %s in [10,20) = %q, want it kept", k, got)
		}
	}
	if gc.windowsLive() != 1 {
		t.Errorf("%d windows tracked, want 1", gc.windowsLive())
	}
}

// State in the global window is never collected, and costs the GC no memory per key.
func TestStateGCLeavesTheGlobalWindow(t *testing.T) {
	comps := &pipepb.Components{Coders: map[string]*pipepb.Coder{"w": {Spec: &pipepb.FunctionSpec{Urn: "beam:coder:global_window:v1"}}}}
	codec, err := wire.NewWindowCodec(comps, "w")
	if err != nil {
		t.Fatal(err)
	}
	gc := NewStateGC(window.Strategy{}, codec, map[string][]string{"t": {"count"}})
	u := &userState{store: state.NewMemStore(), gc: gc}
	k := &fnpb.StateKey{Type: &fnpb.StateKey_BagUserState_{BagUserState: &fnpb.StateKey_BagUserState{
		TransformId: "t", UserStateId: "count", Window: codec.Append(nil, wire.GlobalWindow{}), Key: []byte("a")}}}
	call(t, u, k, &fnpb.StateAppendRequest{Data: []byte("1")})
	if n, err := u.expire(wire.MaxTimestamp); err != nil || n != 0 || gc.windowsLive() != 0 {
		t.Fatalf("expire = %d, %v with %d windows tracked; want the global window left alone", n, err, gc.windowsLive())
	}
}
