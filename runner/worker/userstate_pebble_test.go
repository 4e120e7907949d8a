package worker

import (
	"encoding/binary"
	"fmt"
	"testing"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/state"
)

func varintCodec(tb testing.TB) wire.Codec {
	tb.Helper()
	c, err := wire.NewCodec(&pipepb.Components{Coders: map[string]*pipepb.Coder{
		"v": {Spec: &pipepb.FunctionSpec{Urn: "beam:coder:varint:v1"}}}}, "v")
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func bagKey(key string) *fnpb.StateKey {
	return &fnpb.StateKey{Type: &fnpb.StateKey_BagUserState_{BagUserState: &fnpb.StateKey_BagUserState{
		TransformId: "t", UserStateId: "s", Window: []byte("w"), Key: []byte(key)}}}
}

func mapEntryKey(key, mapKey string) *fnpb.StateKey {
	return &fnpb.StateKey{Type: &fnpb.StateKey_MultimapUserState_{MultimapUserState: &fnpb.StateKey_MultimapUserState{
		TransformId: "t", UserStateId: "m", Window: []byte("w"), Key: []byte(key), MapKey: []byte(mapKey)}}}
}

func mapKeysKey(key string) *fnpb.StateKey {
	return &fnpb.StateKey{Type: &fnpb.StateKey_MultimapKeysUserState_{MultimapKeysUserState: &fnpb.StateKey_MultimapKeysUserState{
		TransformId: "t", UserStateId: "m", Window: []byte("w"), Key: []byte(key)}}}
}

func orderedKey(key string, start, end int64) *fnpb.StateKey {
	return &fnpb.StateKey{Type: &fnpb.StateKey_OrderedListUserState_{OrderedListUserState: &fnpb.StateKey_OrderedListUserState{
		TransformId: "t", UserStateId: "ol", Window: []byte("w"), Key: []byte(key),
		Range: &fnpb.OrderedListRange{Start: start, End: end}}}}
}

// orderedEntry is one ordered-list entry as the SDK appends it: varint sort key, value.
func orderedEntry(ts, v int64) []byte {
	return wire.AppendVarInt(binary.AppendUvarint(nil, uint64(ts)), v)
}

// TestUserStateSurvivesReopeningPebble writes user state through the Fn API state
// handler into a Pebble store, closes the database, reopens it from its directory and
// reads the same state back through the same handler; appends then go after what was
// there.
func TestUserStateSurvivesReopeningPebble(t *testing.T) {
	dir := t.TempDir()
	ns := state.Namespace("job-1", "s2", "0", "user")
	lists := map[string]wire.Codec{"t/ol": varintCodec(t)}
	open := func() (*state.PebbleDB, *userState) {
		db, err := state.OpenPebble(dir, state.PebbleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return db, &userState{store: db.Store(ns), orderedLists: lists}
	}
	get := func(u *userState, k *fnpb.StateKey) string {
		return string(call(t, u, k, &fnpb.StateGetRequest{}).GetGet().GetData())
	}
	appendTo := func(u *userState, k *fnpb.StateKey, data string) {
		call(t, u, k, &fnpb.StateAppendRequest{Data: []byte(data)})
	}

	db, u := open()
	appendTo(u, bagKey("alice"), "12") // bag state (and value, combining)
	appendTo(u, bagKey("alice"), "3")
	appendTo(u, bagKey("bob"), "x")
	appendTo(u, bagKey("carol"), "gone")
	call(t, u, bagKey("carol"), &fnpb.StateClearRequest{})
	appendTo(u, mapEntryKey("alice", "y"), "2") // multimap put (and map, set)
	appendTo(u, mapEntryKey("alice", "x"), "1")
	appendTo(u, mapEntryKey("alice", "x"), "3")
	appendTo(u, mapEntryKey("alice", "z"), "9")
	call(t, u, mapEntryKey("alice", "z"), &fnpb.StateClearRequest{})
	appendTo(u, orderedKey("alice", 0, 0), string(append(append(orderedEntry(5, 50), orderedEntry(-3, 30)...), orderedEntry(5, 51)...)))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, u = open()
	defer func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, c := range []struct {
		name string
		key  *fnpb.StateKey
		want string
	}{
		{"bag alice", bagKey("alice"), "123"},
		{"bag bob", bagKey("bob"), "x"},
		{"cleared bag carol", bagKey("carol"), ""},
		{"map keys", mapKeysKey("alice"), "xy"},
		{"map entry x", mapEntryKey("alice", "x"), "13"},
		{"cleared map entry z", mapEntryKey("alice", "z"), ""},
		{"ordered list", orderedKey("alice", -100, 100), string(append(append(orderedEntry(-3, 30), orderedEntry(5, 50)...), orderedEntry(5, 51)...))},
	} {
		if got := get(u, c.key); got != c.want {
			t.Errorf("%s after reopening = %q, want %q", c.name, got, c.want)
		}
	}
	appendTo(u, bagKey("alice"), "4")
	appendTo(u, mapEntryKey("alice", "x"), "5")
	appendTo(u, orderedKey("alice", 0, 0), string(orderedEntry(5, 52)))
	if got := get(u, bagKey("alice")); got != "1234" {
		t.Errorf("bag alice after an append past the reopen = %q, want 1234", got)
	}
	if got := get(u, mapEntryKey("alice", "x")); got != "135" {
		t.Errorf("map entry x after an append past the reopen = %q, want 135", got)
	}
	if got, want := get(u, orderedKey("alice", 5, 6)), string(append(append(orderedEntry(5, 50), orderedEntry(5, 51)...), orderedEntry(5, 52)...)); got != want {
		t.Errorf("ordered list at 5 after an append past the reopen = %x, want %x (append order)", got, want)
	}
}

// User-state benchmarks through the Fn API state handler, memory against Pebble. Each
// reports ops/s, one op being the unit named by the benchmark.
//
//	go test ./runner/worker -run '^$' -bench UserState

func benchUserState(b *testing.B, run func(b *testing.B, u *userState) int) {
	lists := map[string]wire.Codec{"t/ol": varintCodec(b)}
	b.Run("memory", func(b *testing.B) {
		ops := run(b, &userState{store: state.NewMemStore(), orderedLists: lists})
		b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
	})
	b.Run("pebble", func(b *testing.B) {
		db, err := state.OpenPebble(b.TempDir(), state.PebbleOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		ops := run(b, &userState{store: db.Store(state.Namespace("job", "s", "0", "user")), orderedLists: lists})
		b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
	})
}

func handleOK(b *testing.B, u *userState, key *fnpb.StateKey, req *fnpb.StateRequest) *fnpb.StateResponse {
	req.StateKey = key
	resp, ok := u.handle(req)
	if !ok || resp.GetError() != "" {
		b.Fatalf("state request: %v", resp.GetError())
	}
	return resp
}

func benchKeys(n int) []*fnpb.StateKey {
	keys := make([]*fnpb.StateKey, n)
	for i := range keys {
		keys[i] = bagKey(fmt.Sprintf("user-%06d", i))
	}
	return keys
}

// BenchmarkUserStateValueRMW is value state (and a per-key count): Get, Clear, Append of
// one value; keys take turns. One op is the three requests.
func BenchmarkUserStateValueRMW(b *testing.B) {
	for _, n := range []int{1, 1024, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			benchUserState(b, func(b *testing.B, u *userState) int {
				keys := benchKeys(n)
				get := &fnpb.StateRequest{Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}}
				clr := &fnpb.StateRequest{Request: &fnpb.StateRequest_Clear{Clear: &fnpb.StateClearRequest{}}}
				app := &fnpb.StateAppendRequest{}
				put := &fnpb.StateRequest{Request: &fnpb.StateRequest_Append{Append: app}}
				ops := 0
				for b.Loop() {
					k := keys[ops%n]
					count, _ := binary.Uvarint(handleOK(b, u, k, get).GetGet().GetData())
					handleOK(b, u, k, clr)
					app.Data = binary.AppendUvarint(app.Data[:0], count+1)
					handleOK(b, u, k, put)
					ops++
				}
				count, _ := binary.Uvarint(handleOK(b, u, keys[0], get).GetGet().GetData())
				if want := uint64((ops + n - 1) / n); count != want {
					b.Fatalf("count of key 0 = %d, want %d", count, want)
				}
				return ops
			})
		})
	}
}

// BenchmarkUserStateBagAppend appends one 32-byte value to one of 1024 bags per op.
func BenchmarkUserStateBagAppend(b *testing.B) {
	benchUserState(b, func(b *testing.B, u *userState) int {
		keys := benchKeys(1024)
		put := &fnpb.StateRequest{Request: &fnpb.StateRequest_Append{Append: &fnpb.StateAppendRequest{Data: make([]byte, 32)}}}
		ops := 0
		for b.Loop() {
			handleOK(b, u, keys[ops%len(keys)], put)
			ops++
		}
		return ops
	})
}

// BenchmarkUserStateOrderedListRange reads a range of 100 entries out of an ordered list
// of 10,000 (one per sort key); one op is one range read.
func BenchmarkUserStateOrderedListRange(b *testing.B) {
	benchUserState(b, func(b *testing.B, u *userState) int {
		const size, span = 10_000, 100
		var data []byte
		for i := range size {
			data = append(data, orderedEntry(int64(i), int64(i))...)
		}
		handleOK(b, u, orderedKey("k", 0, 0), &fnpb.StateRequest{Request: &fnpb.StateRequest_Append{Append: &fnpb.StateAppendRequest{Data: data}}})
		get := &fnpb.StateRequest{Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}}
		ops := 0
		for b.Loop() {
			start := int64(ops*span) % size
			got := handleOK(b, u, orderedKey("k", start, start+span), get).GetGet().GetData()
			if len(got) < 2*span {
				b.Fatalf("range [%d, %d) read %d bytes", start, start+span, len(got))
			}
			ops++
		}
		return ops
	})
}

// BenchmarkUserStateLargeBagRead reads a bag of 100,000 appended 100-byte values (10 MB,
// ten pages) through continuation tokens; one op is the whole read.
func BenchmarkUserStateLargeBagRead(b *testing.B) {
	benchUserState(b, func(b *testing.B, u *userState) int {
		const size = 100_000
		key := bagKey("big")
		put := &fnpb.StateRequest{Request: &fnpb.StateRequest_Append{Append: &fnpb.StateAppendRequest{Data: make([]byte, 100)}}}
		for range size {
			handleOK(b, u, key, put)
		}
		ops := 0
		for b.Loop() {
			n := 0
			for tok := []byte(nil); ; {
				r := handleOK(b, u, key, &fnpb.StateRequest{Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{ContinuationToken: tok}}}).GetGet()
				n += len(r.GetData())
				if tok = r.GetContinuationToken(); tok == nil {
					break
				}
			}
			if n != 100*size {
				b.Fatalf("read %d bytes, want %d", n, 100*size)
			}
			ops++
		}
		return ops
	})
}
