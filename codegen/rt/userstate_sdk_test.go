package rt

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
)

// sdkStateReader serves the SDK's own state provider (exec's stateProvider) from a
// fakeUserState, as the SDK harness's state manager serves it from the runner: readers
// fetch at their first Read, each Write is one append or clear.
type sdkStateReader struct {
	exec.StateReader // side inputs: not used
	f                *fakeUserState
}

type lazyReader struct {
	get func() ([]byte, error)
	r   *bytes.Reader
}

func (l *lazyReader) Read(b []byte) (int, error) {
	if l.r == nil {
		data, err := l.get()
		if err != nil {
			return 0, err
		}
		l.r = bytes.NewReader(data)
	}
	return l.r.Read(b)
}

func (l *lazyReader) Close() error { return nil }

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(b []byte) (int, error) { return w(b) }

func (s sdkStateReader) reader(k UserStateKey) io.ReadCloser {
	return &lazyReader{get: func() ([]byte, error) { return s.f.Get(context.Background(), k) }}
}

func (s sdkStateReader) appender(k UserStateKey) io.Writer {
	return writerFunc(func(b []byte) (int, error) {
		return len(b), s.f.Append(context.Background(), k, bytes.Clone(b))
	})
}

func (s sdkStateReader) clearer(k UserStateKey) io.Writer {
	return writerFunc(func(b []byte) (int, error) { return len(b), s.f.Clear(context.Background(), k) })
}

func sdkKey(kind UserStateKind, id exec.StreamID, sid string, key, w, mk []byte) UserStateKey {
	return UserStateKey{Kind: kind, TransformID: id.PtransformID, StateID: sid, Key: key, Window: w, MapKey: mk}
}

func (s sdkStateReader) OpenBagUserStateReader(_ context.Context, id exec.StreamID, sid string, key, w []byte) (io.ReadCloser, error) {
	return s.reader(sdkKey(UserBag, id, sid, key, w, nil)), nil
}

func (s sdkStateReader) OpenBagUserStateAppender(_ context.Context, id exec.StreamID, sid string, key, w []byte) (io.Writer, error) {
	return s.appender(sdkKey(UserBag, id, sid, key, w, nil)), nil
}

func (s sdkStateReader) OpenBagUserStateClearer(_ context.Context, id exec.StreamID, sid string, key, w []byte) (io.Writer, error) {
	return s.clearer(sdkKey(UserBag, id, sid, key, w, nil)), nil
}

func (s sdkStateReader) OpenMultimapUserStateReader(_ context.Context, id exec.StreamID, sid string, key, w, mk []byte) (io.ReadCloser, error) {
	return s.reader(sdkKey(UserMultimap, id, sid, key, w, mk)), nil
}

func (s sdkStateReader) OpenMultimapUserStateAppender(_ context.Context, id exec.StreamID, sid string, key, w, mk []byte) (io.Writer, error) {
	return s.appender(sdkKey(UserMultimap, id, sid, key, w, mk)), nil
}

func (s sdkStateReader) OpenMultimapUserStateClearer(_ context.Context, id exec.StreamID, sid string, key, w, mk []byte) (io.Writer, error) {
	return s.clearer(sdkKey(UserMultimap, id, sid, key, w, mk)), nil
}

func (s sdkStateReader) OpenMultimapKeysUserStateReader(_ context.Context, id exec.StreamID, sid string, key, w []byte) (io.ReadCloser, error) {
	return s.reader(sdkKey(UserMultimapKeys, id, sid, key, w, nil)), nil
}

func (s sdkStateReader) OpenMultimapKeysUserStateClearer(_ context.Context, id exec.StreamID, sid string, key, w []byte) (io.Writer, error) {
	return s.clearer(sdkKey(UserMultimapKeys, id, sid, key, w, nil)), nil
}

func orderedKey(id exec.StreamID, sid string, key, w []byte, start, end int64) UserStateKey {
	k := sdkKey(UserOrderedList, id, sid, key, w, nil)
	k.Start, k.End = start, end
	return k
}

func (s sdkStateReader) OpenOrderedListUserStateReader(_ context.Context, id exec.StreamID, sid string, key, w []byte, start, end int64) (io.ReadCloser, error) {
	return s.reader(orderedKey(id, sid, key, w, start, end)), nil
}

func (s sdkStateReader) OpenOrderedListUserStateAppender(_ context.Context, id exec.StreamID, sid string, key, w []byte) (io.Writer, error) {
	return s.appender(sdkKey(UserOrderedList, id, sid, key, w, nil)), nil
}

func (s sdkStateReader) OpenOrderedListUserStateClearer(_ context.Context, id exec.StreamID, sid string, key, w []byte, start, end int64) (io.Writer, error) {
	return s.clearer(orderedKey(id, sid, key, w, start, end)), nil
}

// script is a sequence of calls of a stateful DoFn, each with a new provider (as the SDK
// makes one per call); it records what the state types returned.
type script func(call func() state.Provider) []string

// TestUserStateLikeSDK runs scripts against rt's provider and against the SDK's own
// (exec's stateProvider) over the same kind of store: they must return the same and
// leave the same state, the SDK's quirks included.
func TestUserStateLikeSDK(t *testing.T) {
	count := state.MakeValueState[int64]("count")
	recent := state.MakeBagState[string]("recent")
	total := state.MakeCombiningState[int64, int64, int64]("total", sum64)
	words := state.MakeMapState[string, int64]("words")
	seen := state.MakeSetState[string]("seen")
	list := state.MakeOrderedListState[string]("list")
	r := func(vs ...any) string { return fmt.Sprint(vs...) }
	scripts := map[string]script{
		"value": func(call func() state.Provider) []string {
			var out []string
			p := call()
			out = append(out, r(count.Read(p)))
			_ = count.Write(p, 1)
			out = append(out, r(count.Read(p)))
			p = call()
			out = append(out, r(count.Read(p)))
			_ = count.Write(p, 2)
			out = append(out, r(count.Read(p)))
			_ = count.Clear(p)
			out = append(out, r(count.Read(p)))
			_ = count.Write(p, 3)
			out = append(out, r(count.Read(p)))
			p = call()
			return append(out, r(count.Read(p)))
		},
		"bag": func(call func() state.Provider) []string {
			var out []string
			p := call()
			_ = recent.Add(p, "a")
			_ = recent.Add(p, "b")
			out = append(out, r(recent.Read(p)))
			_ = recent.Add(p, "c")
			out = append(out, r(recent.Read(p)))
			_ = recent.Clear(p)
			_ = recent.Add(p, "d")
			out = append(out, r(recent.Read(p)))
			p = call()
			out = append(out, r(recent.Read(p)))
			_ = recent.Clear(p)
			_ = recent.Add(p, "e")
			out = append(out, r(recent.Read(p)))
			p = call()
			return append(out, r(recent.Read(p)))
		},
		"combining": func(call func() state.Provider) []string {
			var out []string
			for i := range int64(3) {
				p := call()
				_ = total.Add(p, i+3)
				out = append(out, r(total.Read(p)))
				_ = total.Add(p, 10)
				out = append(out, r(total.Read(p)))
			}
			p := call()
			_ = total.Clear(p)
			return append(out, r(total.Read(p)))
		},
		"map and set": func(call func() state.Provider) []string {
			var out []string
			p := call()
			out = append(out, r(words.Get(p, "x")))
			_ = words.Put(p, "x", 1)
			_ = words.Put(p, "y", 2)
			out = append(out, r(words.Get(p, "x")), r(words.Keys(p)))
			_ = words.Remove(p, "x")
			out = append(out, r(words.Get(p, "x")), r(words.Keys(p)))
			out = append(out, r(seen.Contains(p, "x")))
			_ = seen.Add(p, "x")
			out = append(out, r(seen.Contains(p, "x")), r(seen.Keys(p)))
			p = call()
			out = append(out, r(words.Keys(p)), r(words.Get(p, "y")), r(seen.Keys(p)))
			_ = words.Clear(p)
			_ = words.Put(p, "z", 3)
			out = append(out, r(words.Keys(p)), r(words.Get(p, "y")))
			p = call()
			return append(out, r(words.Keys(p)), r(words.Get(p, "z")))
		},
		"ordered list": func(call func() state.Provider) []string {
			var out []string
			p := call()
			out = append(out, r(list.Read(p)))
			_ = list.Add(p, 5, "e")
			_ = list.Add(p, -3, "minus")
			_ = list.Add(p, 5, "e2")
			_ = list.Add(p, math.MinInt64, "min")
			out = append(out, r(list.Read(p)), r(list.ReadRange(p, 0, 6)))
			p = call()
			_ = list.Add(p, 2, "b") // blind: the SDK's read has it twice
			out = append(out, r(list.Read(p)), r(list.ReadRange(p, -3, 5)))
			_ = list.ClearRange(p, -3, 3)
			_ = list.Add(p, 1, "a")
			out = append(out, r(list.Read(p)), r(list.ReadRange(p, 1, 2)))
			p = call()
			out = append(out, r(list.Read(p)))
			_ = list.Add(p, math.MaxInt64, "max") // beyond every range
			_ = list.ClearRange(p, 5, 6)
			out = append(out, r(list.Read(p)))
			p = call()
			out = append(out, r(list.ReadRange(p, math.MinInt64, math.MaxInt64)))
			_ = list.Clear(p)
			_ = list.Add(p, 7, "g")
			out = append(out, r(list.Read(p)))
			p = call()
			return append(out, r(list.Read(p)), r(list.ReadRange(p, 8, 9)))
		},
	}
	for name, sc := range scripts {
		t.Run(name, func(t *testing.T) {
			_, ours, b := newTestStates(t)
			got := sc(func() state.Provider { return provider(t, b, "k", GlobalWindow) })

			theirs := &fakeUserState{bags: map[string][]byte{}}
			adapter := sdkAdapter(t)
			want := sc(func() state.Provider {
				sp, err := adapter.NewStateProvider(context.Background(), sdkStateReader{f: theirs}, window.GlobalWindow{}, &exec.MainInput{Key: exec.FullValue{Elm: "k"}})
				if err != nil {
					t.Fatal(err)
				}
				return &sp
			})
			if !slices.Equal(got, want) {
				t.Errorf("rt's provider returned\n%q\nthe SDK's\n%q", got, want)
			}
			if !maps.EqualFunc(ours.bags, theirs.bags, bytes.Equal) {
				t.Errorf("rt's provider left %q, the SDK's %q", ours.bags, theirs.bags)
			}
		})
	}
}

func sum64(a, b int64) int64 { return a + b }

// sdkAdapter is the SDK's user state adapter for newTestStates's states.
func sdkAdapter(t *testing.T) exec.UserStateAdapter {
	t.Helper()
	str, vint := coder.NewString(), coder.NewVarInt()
	fn, err := graph.NewCombineFn(sum64)
	if err != nil {
		t.Fatal(err)
	}
	in := coder.NewW(coder.NewKV([]*coder.Coder{str, vint}), coder.NewGlobalWindow())
	return exec.NewUserStateAdapter(exec.StreamID{PtransformID: "t1"}, in,
		map[string]*coder.Coder{"count": vint, "recent": str, "total": vint, "words": vint, "seen": {Kind: coder.Bool}, "list": str},
		map[string]*coder.Coder{"words": str, "seen": str},
		map[string]*graph.CombineFn{"total": fn})
}
