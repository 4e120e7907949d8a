package native

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"

	"github.com/sluice-runner/sluice/codegen/rt"
)

// fakeUserStateServer keeps user state as the runner does: bags by their full state key,
// appends concatenated; a multimap's keys are those holding data. Gets are paged.
// Ordered list requests are only recorded (their state key and request).
type fakeUserStateServer struct {
	fnpb.UnimplementedBeamFnStateServer
	mu      sync.Mutex
	bags    map[string][]byte
	ordered []*fnpb.StateRequest
	sendMu  sync.Mutex
}

func (f *fakeUserStateServer) State(stream fnpb.BeamFnState_StateServer) error {
	for {
		req, err := stream.Recv()
		if err != nil {
			return nil
		}
		go func() {
			resp := f.answer(req)
			resp.Id = req.GetId()
			f.sendMu.Lock()
			defer f.sendMu.Unlock()
			_ = stream.Send(resp)
		}()
	}
}

func (f *fakeUserStateServer) answer(req *fnpb.StateRequest) *fnpb.StateResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	var name, keysOf string
	switch k := req.GetStateKey().GetType().(type) {
	case *fnpb.StateKey_BagUserState_:
		b := k.BagUserState
		name = fmt.Sprintf("%s|%s|%x|%x", b.GetTransformId(), b.GetUserStateId(), b.GetWindow(), b.GetKey())
	case *fnpb.StateKey_MultimapUserState_:
		m := k.MultimapUserState
		name = fmt.Sprintf("%s|%s|%x|%x|m|%s", m.GetTransformId(), m.GetUserStateId(), m.GetWindow(), m.GetKey(), m.GetMapKey())
	case *fnpb.StateKey_MultimapKeysUserState_:
		m := k.MultimapKeysUserState
		keysOf = fmt.Sprintf("%s|%s|%x|%x|m|", m.GetTransformId(), m.GetUserStateId(), m.GetWindow(), m.GetKey())
	case *fnpb.StateKey_OrderedListUserState_:
		f.ordered = append(f.ordered, req)
		name = "ordered"
	default:
		return &fnpb.StateResponse{Error: fmt.Sprintf("not user state: %v", req.GetStateKey())}
	}
	switch r := req.GetRequest().(type) {
	case *fnpb.StateRequest_Get:
		var data []byte
		if keysOf != "" {
			for n := range f.bags {
				if strings.HasPrefix(n, keysOf) {
					data = append(data, n[len(keysOf):]...)
				}
			}
		} else {
			data = f.bags[name]
		}
		// Two pages when there is more than a byte: the client follows the token.
		if tok := r.Get.GetContinuationToken(); len(tok) > 0 {
			return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: &fnpb.StateGetResponse{Data: data[1:]}}}
		}
		if len(data) > 1 {
			return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: &fnpb.StateGetResponse{Data: data[:1], ContinuationToken: []byte("1")}}}
		}
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: &fnpb.StateGetResponse{Data: data}}}
	case *fnpb.StateRequest_Append:
		f.bags[name] = append(f.bags[name], r.Append.GetData()...)
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Append{Append: &fnpb.StateAppendResponse{}}}
	case *fnpb.StateRequest_Clear:
		for n := range f.bags {
			if n == name || keysOf != "" && strings.HasPrefix(n, keysOf) {
				delete(f.bags, n)
			}
		}
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Clear{Clear: &fnpb.StateClearResponse{}}}
	}
	return &fnpb.StateResponse{Error: "unknown request"}
}

func TestBundleUserState(t *testing.T) {
	f := &fakeUserStateServer{bags: map[string][]byte{}}
	c, stop := stateClientOf(t, f)
	defer stop()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 { // concurrent bundles, each its own key
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := bundleUserState{c: c, instruction: fmt.Sprintf("b%d", i)}
			bag := rt.UserStateKey{Kind: rt.UserBag, TransformID: "t1", StateID: "s", Key: []byte{byte(i)}, Window: []byte("w")}
			for _, v := range []string{"ab", "c"} {
				if err := r.Append(ctx, bag, []byte(v)); err != nil {
					t.Error(err)
				}
			}
			if got, err := r.Get(ctx, bag); string(got) != "abc" || err != nil {
				t.Errorf("bag = %q, %v; want abc", got, err)
			}
			if err := r.Clear(ctx, bag); err != nil {
				t.Error(err)
			}
			if got, err := r.Get(ctx, bag); len(got) != 0 || err != nil {
				t.Errorf("cleared bag = %q, %v", got, err)
			}
			m := rt.UserStateKey{Kind: rt.UserMultimap, TransformID: "t1", StateID: "m", Key: []byte{byte(i)}, MapKey: []byte("x")}
			if err := r.Append(ctx, m, []byte("1")); err != nil {
				t.Error(err)
			}
			keys := rt.UserStateKey{Kind: rt.UserMultimapKeys, TransformID: "t1", StateID: "m", Key: []byte{byte(i)}}
			if got, err := r.Get(ctx, keys); string(got) != "x" || err != nil {
				t.Errorf("map keys = %q, %v; want x", got, err)
			}
			if err := r.Clear(ctx, keys); err != nil {
				t.Error(err)
			}
			if got, err := r.Get(ctx, m); len(got) != 0 || err != nil {
				t.Errorf("map key after clearing the map = %q, %v", got, err)
			}
		}()
	}
	wg.Wait()
}

// TestBundleUserStateOrderedList checks an ordered list's requests carry the state key
// the SDK's harness sends: a range on gets and clears, none on appends.
func TestBundleUserStateOrderedList(t *testing.T) {
	f := &fakeUserStateServer{bags: map[string][]byte{}}
	c, stop := stateClientOf(t, f)
	defer stop()
	ctx := context.Background()
	r := bundleUserState{c: c, instruction: "b1"}
	k := rt.UserStateKey{Kind: rt.UserOrderedList, TransformID: "t1", StateID: "o", Key: []byte("k"), Window: []byte("w"), Start: -3, End: 7}
	if _, err := r.Get(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := r.Append(ctx, k, []byte("\x02x")); err != nil {
		t.Fatal(err)
	}
	if err := r.Clear(ctx, k); err != nil {
		t.Fatal(err)
	}
	if len(f.ordered) != 3 {
		t.Fatalf("%d ordered list requests, want 3", len(f.ordered))
	}
	for i, want := range []*fnpb.OrderedListRange{{Start: -3, End: 7}, nil, {Start: -3, End: 7}} {
		req := f.ordered[i]
		ol := req.GetStateKey().GetOrderedListUserState()
		if ol.GetTransformId() != "t1" || ol.GetUserStateId() != "o" || string(ol.GetKey()) != "k" || string(ol.GetWindow()) != "w" {
			t.Errorf("request %d: state key %v", i, ol)
		}
		if got := ol.GetRange(); (got == nil) != (want == nil) || got.GetStart() != want.GetStart() || got.GetEnd() != want.GetEnd() {
			t.Errorf("request %d (%T): range %v, want %v", i, req.GetRequest(), got, want)
		}
	}
	if string(f.ordered[1].GetAppend().GetData()) != "\x02x" {
		t.Errorf("append data %q", f.ordered[1].GetAppend().GetData())
	}
}
