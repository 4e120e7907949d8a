package worker

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/sluice-runner/sluice/runner/plan"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/state"
)

func TestSideInputsServeByWindowAndKeyWithPaging(t *testing.T) {
	in, _ := groupCodecs(t) // KV<string, string> in interval windows
	s := &sideInputs{store: state.NewMemStore(), gates: []*SideInputGate{
		{Input: plan.SideInput{TransformID: "t", LocalName: "iter"}, Codec: in},
		{Input: plan.SideInput{TransformID: "t", LocalName: "map", Multimap: true}, Codec: in},
	}}
	w1, w2 := wire.IntervalWindow{Start: 0, End: 10}, wire.IntervalWindow{Start: 10, End: 20}
	big := strings.Repeat("x", maxStatePage/2)
	for _, r := range []struct {
		w    wire.IntervalWindow
		k, v string
	}{{w1, "a", big}, {w1, "a", big}, {w1, "a", big}, {w1, "b", "small"}, {w2, "a", "later"}} {
		for i := range s.gates {
			if err := s.add(i, kvRecord(in, r.w.Start, r.w, r.k, r.v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	w3 := wire.IntervalWindow{Start: 20, End: 30}
	var many []byte // 2 MiB of small values: stored in chunks, read in pages
	for i := 0; len(many) < 2*maxStatePage; i++ {
		v := fmt.Sprintf("%0200d", i)
		if err := s.add(0, kvRecord(in, w3.Start, w3, "k", v)); err != nil {
			t.Fatal(err)
		}
		many = append(append(many, str("k")...), str(v)...)
	}
	if err := s.flush(); err != nil {
		t.Fatal(err)
	}
	win := in.WindowCodec().Append(nil, w1)
	get := func(key *fnpb.StateKey, token []byte) *fnpb.StateGetResponse {
		t.Helper()
		resp := s.HandleState(context.Background(), &fnpb.StateRequest{StateKey: key,
			Request: &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{ContinuationToken: token}}})
		if resp.GetError() != "" {
			t.Fatal(resp.GetError())
		}
		return resp.GetGet()
	}
	readAll := func(key *fnpb.StateKey) (data []byte, pages int) {
		var tok []byte
		for {
			r := get(key, tok)
			data, pages = append(data, r.GetData()...), pages+1
			if tok = r.GetContinuationToken(); len(tok) == 0 {
				return data, pages
			}
		}
	}
	mapKey := &fnpb.StateKey{Type: &fnpb.StateKey_MultimapSideInput_{MultimapSideInput: &fnpb.StateKey_MultimapSideInput{
		TransformId: "t", SideInputId: "map", Window: win, Key: str("a")}}}
	data, pages := readAll(mapKey)
	if want := 3 * len(str(big)); len(data) != want || pages < 2 {
		t.Errorf("multimap a in w1: %d bytes in %d pages, want %d bytes over several pages", len(data), pages, want)
	}
	iterKey := &fnpb.StateKey{Type: &fnpb.StateKey_IterableSideInput_{IterableSideInput: &fnpb.StateKey_IterableSideInput{
		TransformId: "t", SideInputId: "iter", Window: in.WindowCodec().Append(nil, w2)}}}
	if data, _ := readAll(iterKey); string(data) != string(append(str("a"), str("later")...)) {
		t.Errorf("iterable in w2 = %q, want the one KV of that window", data)
	}
	manyKey := &fnpb.StateKey{Type: &fnpb.StateKey_IterableSideInput_{IterableSideInput: &fnpb.StateKey_IterableSideInput{
		TransformId: "t", SideInputId: "iter", Window: in.WindowCodec().Append(nil, w3)}}}
	if data, pages := readAll(manyKey); string(data) != string(many) || pages < 2 || pages > 5 {
		t.Errorf("iterable in w3: %d bytes in %d pages, want the %d bytes added, in a few pages", len(data), pages, len(many))
	}
	bad := s.HandleState(context.Background(), &fnpb.StateRequest{
		StateKey: &fnpb.StateKey{Type: &fnpb.StateKey_IterableSideInput_{IterableSideInput: &fnpb.StateKey_IterableSideInput{TransformId: "t", SideInputId: "nope"}}},
		Request:  &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{}}})
	if !strings.Contains(bad.GetError(), `unknown side input "nope"`) {
		t.Errorf("unknown side input answered %q", bad.GetError())
	}
	write := s.HandleState(context.Background(), &fnpb.StateRequest{StateKey: iterKey,
		Request: &fnpb.StateRequest_Clear{Clear: &fnpb.StateClearRequest{}}})
	if !strings.Contains(write.GetError(), "read-only") {
		t.Errorf("clearing a side input answered %q, want a read-only error", write.GetError())
	}
}

func TestResidualQueueDelaysAndHolds(t *testing.T) {
	var q residualQueue
	now := time.Unix(1000, 0)
	app := func(elem string, delay time.Duration) *fnpb.DelayedBundleApplication {
		return &fnpb.DelayedBundleApplication{
			Application:        &fnpb.BundleApplication{Element: []byte(elem)},
			RequestedTimeDelay: durationpb.New(delay),
		}
	}
	q.add(app("late", 2*time.Second), now)
	q.add(app("soon", time.Second), now)
	if due := q.takeDue(now); len(due) != 0 {
		t.Fatalf("took %q before any delay passed", due)
	}
	if next, _ := q.next(); !next.Equal(now.Add(time.Second)) {
		t.Errorf("next due %v, want %v", next, now.Add(time.Second))
	}
	if h := q.hold(); h != -1<<63 {
		t.Errorf("hold without SDK watermarks = %d, want the minimum (hold everything)", h)
	}
	due := q.takeDue(now.Add(1500 * time.Millisecond))
	if len(due) != 1 || string(due[0]) != "soon" {
		t.Errorf("due after 1.5s = %q, want [soon]", due)
	}
	if due := q.takeDue(now.Add(3 * time.Second)); len(due) != 1 || string(due[0]) != "late" || !q.empty() {
		t.Errorf("due after 3s = %q, want [late] and an empty queue", due)
	}
}
