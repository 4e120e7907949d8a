package rt

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"

	"github.com/sluice-runner/sluice/runner/wire"
)

// fakeUserState keeps user state as the runner does (runner/worker/userstate.go): a bag's
// appends concatenated, a map's keys those with a value, an ordered list's entries a bag
// per sort key (in sort key order), and counts the requests.
type fakeUserState struct {
	bags           map[string][]byte
	gets, appends  int
	clears         int
	failAt         string
	lastKey, lastW []byte
}

func (f *fakeUserState) name(k UserStateKey) string {
	f.lastKey, f.lastW = k.Key, k.Window
	base := strings.Join([]string{k.TransformID, k.StateID, string(k.Window), string(k.Key)}, "|")
	if k.Kind == UserMultimap {
		return base + "|m|" + string(k.MapKey)
	}
	return base
}

// sortKeyName is the bag name of an ordered list's entries of sort key ts: names sort as
// their sort keys.
func sortKeyName(prefix string, ts int64) string {
	return prefix + string(binary.BigEndian.AppendUint64(nil, uint64(ts)^(1<<63)))
}

// orderedRange calls fn with the bag name of each sort key of the ordered list k in k's
// range, in order.
func (f *fakeUserState) orderedRange(k UserStateKey, fn func(name string)) {
	prefix := f.name(k) + "|o|"
	var names []string
	for n := range f.bags {
		if strings.HasPrefix(n, prefix) && n >= sortKeyName(prefix, k.Start) && n < sortKeyName(prefix, k.End) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fn(n)
	}
}

func (f *fakeUserState) Get(_ context.Context, k UserStateKey) ([]byte, error) {
	f.gets++
	if k.Kind == UserOrderedList {
		var data []byte
		f.orderedRange(k, func(n string) { data = append(data, f.bags[n]...) })
		return data, nil
	}
	if k.Kind == UserMultimapKeys {
		prefix := f.name(k) + "|m|"
		var keys []string
		for n := range f.bags {
			if strings.HasPrefix(n, prefix) {
				keys = append(keys, n[len(prefix):])
			}
		}
		sort.Strings(keys)
		return []byte(strings.Join(keys, "")), nil
	}
	return f.bags[f.name(k)], nil
}

func (f *fakeUserState) Append(_ context.Context, k UserStateKey, data []byte) error {
	f.appends++
	if f.failAt == k.StateID {
		return errors.New("injected")
	}
	if k.Kind == UserOrderedList {
		// Each append is one entry, as both providers send them.
		ts, n := binary.Uvarint(data)
		if n <= 0 {
			return errors.New("ordered list append: bad sort key")
		}
		name := sortKeyName(f.name(k)+"|o|", int64(ts))
		f.bags[name] = append(f.bags[name], data...)
		return nil
	}
	f.bags[f.name(k)] = append(f.bags[f.name(k)], data...)
	return nil
}

func (f *fakeUserState) Clear(_ context.Context, k UserStateKey) error {
	f.clears++
	if k.Kind == UserOrderedList {
		f.orderedRange(k, func(n string) { delete(f.bags, n) })
		return nil
	}
	if k.Kind == UserMultimapKeys {
		prefix := f.name(k) + "|m|"
		for n := range f.bags {
			if strings.HasPrefix(n, prefix) {
				delete(f.bags, n)
			}
		}
		return nil
	}
	delete(f.bags, f.name(k))
	return nil
}

func spec(c *coder.Coder) *userStateSpec {
	return &userStateSpec{enc: exec.MakeElementEncoder(c), dec: exec.MakeElementDecoder(c)}
}

func newTestStates(t *testing.T) (*UserStates, *fakeUserState, *UserStateBundle) {
	t.Helper()
	str, vint := coder.NewString(), coder.NewVarInt()
	total := spec(vint)
	fn, err := graph.NewCombineFn(sum64)
	if err != nil {
		t.Fatal(err)
	}
	total.combine = fn
	words := spec(vint)
	words.keyEnc, words.keyDec = exec.MakeElementEncoder(str), exec.MakeElementDecoder(str)
	seen := spec(&coder.Coder{Kind: coder.Bool})
	seen.keyEnc, seen.keyDec = words.keyEnc, words.keyDec
	u := &UserStates{transform: "t1", key: exec.MakeElementEncoder(str), states: map[string]*userStateSpec{
		"count": spec(vint), "recent": spec(str), "total": total, "words": words, "seen": seen,
		"list": spec(str),
	}}
	f := &fakeUserState{bags: map[string][]byte{}}
	b, err := u.Bundle(WithUserState(context.Background(), f))
	if err != nil {
		t.Fatal(err)
	}
	return u, f, b
}

func provider(t *testing.T, b *UserStateBundle, key string, w Windows) state.Provider {
	t.Helper()
	p, err := b.Provider(key, w)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUserStateValue(t *testing.T) {
	_, f, b := newTestStates(t)
	count := state.MakeValueState[int64]("count")
	p := provider(t, b, "k", GlobalWindow)
	if v, ok, err := count.Read(p); v != 0 || ok || err != nil {
		t.Fatalf("Read of nothing = %v, %v, %v", v, ok, err)
	}
	if err := count.Write(p, 4); err != nil {
		t.Fatal(err)
	}
	// As the SDK's: the bag's reader ran dry on the first read, so a read after a write
	// in the same call still finds nothing.
	if v, ok, err := count.Read(p); v != 0 || ok || err != nil {
		t.Errorf("Read after a write, the reader dry = %v, %v, %v; want the SDK's 0, false", v, ok, err)
	}
	if string(f.lastKey) != "\x01k" || len(f.lastW) != 0 {
		t.Errorf("state key %q, window %q; want the nested key and the global window's no bytes", f.lastKey, f.lastW)
	}
	// A new call reads what the last wrote, and replays its own writes on it.
	p = provider(t, b, "k", GlobalWindow)
	if v, ok, _ := count.Read(p); v != 4 || !ok {
		t.Errorf("Read in a new call = %v, %v, want 4", v, ok)
	}
	_ = count.Write(p, 5)
	if v, _, _ := count.Read(p); v != 5 {
		t.Errorf("Read after write = %v, want 5", v)
	}
	_ = count.Clear(p)
	if v, ok, _ := count.Read(p); v != 0 || ok {
		t.Errorf("Read after clear = %v, %v", v, ok)
	}
	// Other keys and windows are other state.
	w := IntervalWindows(wire.IntervalWindow{Start: 0, End: 10})
	p = provider(t, b, "k", w)
	if _, ok, _ := count.Read(p); ok {
		t.Error("a window's state holds the global window's")
	}
	if want := string(w[4:]); string(f.lastW) != want {
		t.Errorf("window bytes %x, want %x", f.lastW, want)
	}
	if _, err := b.Provider("k", IntervalWindows(wire.IntervalWindow{End: 10}, wire.IntervalWindow{End: 20})); err == nil {
		t.Error("a provider for two windows")
	}
}

func TestUserStateBag(t *testing.T) {
	_, f, b := newTestStates(t)
	recent := state.MakeBagState[string]("recent")
	p := provider(t, b, "k", GlobalWindow)
	_ = recent.Add(p, "a") // a blind write: the read finds it at the runner
	_ = recent.Add(p, "b")
	if vs, ok, _ := recent.Read(p); !slices.Equal(vs, []string{"a", "b"}) || !ok {
		t.Errorf("Read = %v, %v", vs, ok)
	}
	_ = recent.Add(p, "c")
	if vs, _, _ := recent.Read(p); !slices.Equal(vs, []string{"a", "b", "c"}) {
		t.Errorf("Read after add = %v", vs)
	}
	gets := f.gets
	_ = recent.Clear(p)
	_ = recent.Add(p, "d")
	// As the SDK's: a clear after the first read is dropped with the blind writes.
	if vs, _, _ := recent.Read(p); !slices.Equal(vs, []string{"a", "b", "d"}) {
		t.Errorf("Read after clear and add = %v, want the SDK's [a b d]", vs)
	}
	if f.gets != gets {
		t.Errorf("%d gets after the first read; the call caches the bag", f.gets-gets)
	}
	p = provider(t, b, "k", GlobalWindow)
	if vs, _, _ := recent.Read(p); !slices.Equal(vs, []string{"d"}) {
		t.Errorf("Read in a new call = %v", vs)
	}
}

func TestUserStateCombining(t *testing.T) {
	_, _, b := newTestStates(t)
	total := state.MakeCombiningState[int64, int64, int64]("total", sum64)
	for i, want := range []int64{3, 7, 12} {
		p := provider(t, b, "k", GlobalWindow)
		if err := total.Add(p, int64(i)+3); err != nil {
			t.Fatal(err)
		}
		p = provider(t, b, "k", GlobalWindow) // a read after the first, empty one finds nothing (as the SDK's)
		if v, ok, err := total.Read(p); v != want || !ok || err != nil {
			t.Errorf("after adding %d: Read = %v, %v, %v, want %d", i+3, v, ok, err, want)
		}
	}
}

func TestUserStateMapAndSet(t *testing.T) {
	_, _, b := newTestStates(t)
	words := state.MakeMapState[string, int64]("words")
	seen := state.MakeSetState[string]("seen")
	p := provider(t, b, "k", GlobalWindow)
	_ = words.Put(p, "x", 1)
	_ = words.Put(p, "y", 2)
	if v, ok, _ := words.Get(p, "y"); v != 2 || !ok {
		t.Errorf("Get(y) = %v, %v", v, ok)
	}
	_ = words.Remove(p, "x")
	if _, ok, _ := words.Get(p, "x"); ok {
		t.Error("Get(x) after Remove found it")
	}
	if ok, _ := seen.Contains(p, "x"); ok {
		t.Error("Contains before Add")
	}
	_ = seen.Add(p, "x")
	p = provider(t, b, "k", GlobalWindow)
	if keys, _, _ := words.Keys(p); !slices.Equal(keys, []string{"y"}) {
		t.Errorf("Keys = %v, want [y]", keys)
	}
	if ok, _ := seen.Contains(p, "x"); !ok {
		t.Error("Contains after Add in an earlier call")
	}
	_ = words.Clear(p)
	if keys, ok, _ := words.Keys(p); len(keys) != 0 || ok {
		t.Errorf("Keys after Clear = %v", keys)
	}
	p = provider(t, b, "k", GlobalWindow)
	if _, ok, _ := words.Get(p, "y"); ok {
		t.Error("Get after Clear, in a new call, found y")
	}
}

func TestUserStateErrors(t *testing.T) {
	u, f, b := newTestStates(t)
	if _, err := u.Bundle(context.Background()); !errors.Is(err, errNoUserState) {
		t.Errorf("Bundle without a reader: %v", err)
	}
	p := provider(t, b, "k", GlobalWindow)
	f.failAt = "recent"
	bag := state.MakeBagState[string]("recent")
	if err := bag.Add(p, "a"); err == nil {
		t.Error("a failed append went unnoticed")
	}
	unknown := state.MakeValueState[int]("nope")
	if _, _, err := unknown.Read(p); err == nil {
		t.Error("reading a state the payload does not declare")
	}
	list := state.MakeOrderedListState[string]("list")
	if err := list.Add(p, 1, "a"); err != nil {
		t.Errorf("ordered list state: %v", err)
	}
}
