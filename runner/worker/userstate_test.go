package worker

import (
	"encoding/binary"
	"testing"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/state"
)

func call(t *testing.T, u *userState, key *fnpb.StateKey, req any) *fnpb.StateResponse {
	t.Helper()
	r := &fnpb.StateRequest{StateKey: key}
	switch q := req.(type) {
	case *fnpb.StateGetRequest:
		r.Request = &fnpb.StateRequest_Get{Get: q}
	case *fnpb.StateAppendRequest:
		r.Request = &fnpb.StateRequest_Append{Append: q}
	case *fnpb.StateClearRequest:
		r.Request = &fnpb.StateRequest_Clear{Clear: q}
	}
	resp, ok := u.handle(r)
	if !ok || resp.GetError() != "" {
		t.Fatalf("request %T on %v: handled=%v error %q", req, key, ok, resp.GetError())
	}
	return resp
}

func TestUserStateBagsAndMultimaps(t *testing.T) {
	u := &userState{store: state.NewMemStore()}
	bag := func(key string) *fnpb.StateKey {
		return &fnpb.StateKey{Type: &fnpb.StateKey_BagUserState_{BagUserState: &fnpb.StateKey_BagUserState{
			TransformId: "t", UserStateId: "s", Window: []byte("w"), Key: []byte(key)}}}
	}
	call(t, u, bag("a"), &fnpb.StateAppendRequest{Data: []byte("12")})
	call(t, u, bag("a"), &fnpb.StateAppendRequest{Data: []byte("3")})
	call(t, u, bag("b"), &fnpb.StateAppendRequest{Data: []byte("x")})
	if got := string(call(t, u, bag("a"), &fnpb.StateGetRequest{}).GetGet().GetData()); got != "123" {
		t.Errorf("bag a = %q, want 123", got)
	}
	call(t, u, bag("a"), &fnpb.StateClearRequest{})
	if got := string(call(t, u, bag("a"), &fnpb.StateGetRequest{}).GetGet().GetData()); got != "" {
		t.Errorf("bag a after clear = %q", got)
	}
	if got := string(call(t, u, bag("b"), &fnpb.StateGetRequest{}).GetGet().GetData()); got != "x" {
		t.Errorf("bag b = %q: another key's clear reached it", got)
	}

	entry := func(mk string) *fnpb.StateKey {
		return &fnpb.StateKey{Type: &fnpb.StateKey_MultimapUserState_{MultimapUserState: &fnpb.StateKey_MultimapUserState{
			TransformId: "t", UserStateId: "m", Window: []byte("w"), Key: []byte("k"), MapKey: []byte(mk)}}}
	}
	keys := &fnpb.StateKey{Type: &fnpb.StateKey_MultimapKeysUserState_{MultimapKeysUserState: &fnpb.StateKey_MultimapKeysUserState{
		TransformId: "t", UserStateId: "m", Window: []byte("w"), Key: []byte("k")}}}
	call(t, u, entry("y"), &fnpb.StateAppendRequest{Data: []byte("2")})
	call(t, u, entry("x"), &fnpb.StateAppendRequest{Data: []byte("1")})
	if got := string(call(t, u, keys, &fnpb.StateGetRequest{}).GetGet().GetData()); got != "xy" {
		t.Errorf("map keys = %q, want xy", got)
	}
	call(t, u, entry("x"), &fnpb.StateClearRequest{})
	if got := string(call(t, u, keys, &fnpb.StateGetRequest{}).GetGet().GetData()); got != "y" {
		t.Errorf("map keys after clearing x = %q, want y", got)
	}
	call(t, u, keys, &fnpb.StateClearRequest{})
	if got := string(call(t, u, entry("y"), &fnpb.StateGetRequest{}).GetGet().GetData()); got != "" {
		t.Errorf("entry y after clearing the map = %q", got)
	}
}

func TestUserStateOrderedList(t *testing.T) {
	varint, err := wire.NewCodec(&pipepb.Components{Coders: map[string]*pipepb.Coder{
		"v": {Spec: &pipepb.FunctionSpec{Urn: "beam:coder:varint:v1"}}}}, "v")
	if err != nil {
		t.Fatal(err)
	}
	u := &userState{store: state.NewMemStore(), orderedLists: map[string]wire.Codec{"t/ol": varint}}
	key := func(start, end int64) *fnpb.StateKey {
		return &fnpb.StateKey{Type: &fnpb.StateKey_OrderedListUserState_{OrderedListUserState: &fnpb.StateKey_OrderedListUserState{
			TransformId: "t", UserStateId: "ol", Window: []byte("w"), Key: []byte("k"),
			Range: &fnpb.OrderedListRange{Start: start, End: end}}}}
	}
	entry := func(ts, v int64) []byte {
		return wire.AppendVarInt(binary.AppendUvarint(nil, uint64(ts)), v)
	}
	var appended []byte
	for _, e := range [][2]int64{{5, 50}, {-3, 30}, {5, 51}, {100, 1}} {
		appended = append(appended, entry(e[0], e[1])...)
	}
	call(t, u, key(0, 0), &fnpb.StateAppendRequest{Data: appended})
	all := call(t, u, key(-1<<62, 1<<62), &fnpb.StateGetRequest{}).GetGet().GetData()
	want := append(append(append(entry(-3, 30), entry(5, 50)...), entry(5, 51)...), entry(100, 1)...)
	if string(all) != string(want) {
		t.Errorf("whole list = %x, want %x (sorted by key, appends in order)", all, want)
	}
	if got := call(t, u, key(0, 100), &fnpb.StateGetRequest{}).GetGet().GetData(); string(got) != string(append(entry(5, 50), entry(5, 51)...)) {
		t.Errorf("range [0,100) = %x", got)
	}
	call(t, u, key(5, 6), &fnpb.StateClearRequest{})
	if got := call(t, u, key(-1<<62, 1<<62), &fnpb.StateGetRequest{}).GetGet().GetData(); string(got) != string(append(entry(-3, 30), entry(100, 1)...)) {
		t.Errorf("after clearing [5,6): %x", got)
	}
}

// A bag larger than a page comes back in pages, each resuming where the last stopped, and
// a bad continuation token is an error, not a restart.
func TestUserStateBagPages(t *testing.T) {
	u := &userState{store: state.NewMemStore()}
	bag := &fnpb.StateKey{Type: &fnpb.StateKey_BagUserState_{BagUserState: &fnpb.StateKey_BagUserState{
		TransformId: "t", UserStateId: "s", Window: []byte("w"), Key: []byte("k")}}}
	value := make([]byte, 1000)
	var want []byte
	for i := range 3000 { // ~3 MB: several pages
		value[0], value[1] = byte(i>>8), byte(i)
		call(t, u, bag, &fnpb.StateAppendRequest{Data: value})
		want = append(want, value...)
	}
	var got []byte
	pages := 0
	for tok := []byte(nil); ; {
		pages++
		r := call(t, u, bag, &fnpb.StateGetRequest{ContinuationToken: tok}).GetGet()
		got = append(got, r.GetData()...)
		if tok = r.GetContinuationToken(); tok == nil {
			break
		}
	}
	if pages < 3 || string(got) != string(want) {
		t.Errorf("read %d bytes in %d pages, want the %d appended in several", len(got), pages, len(want))
	}
	resp, _ := u.handle(&fnpb.StateRequest{StateKey: bag, Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{ContinuationToken: []byte("7")}}})
	if resp.GetError() == "" {
		t.Error("a malformed continuation token was accepted")
	}
}
