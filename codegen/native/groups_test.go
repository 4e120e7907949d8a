package native

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"

	"github.com/sluice-runner/sluice/codegen/rt"
	"github.com/sluice-runner/sluice/runner/wire"
)

// groupsInput is the bundleInput of a port of KV<string, iterable<string>> in the global
// window: a GroupByKey's output.
func groupsInput(t *testing.T) *bundleInput {
	t.Helper()
	in := portInput(t, coder.NewKV([]*coder.Coder{coder.NewString(), coder.NewI(coder.NewString())}))
	if in.grouped == nil {
		t.Fatal("no groupedInput for a port of groups")
	}
	return in
}

// recordGroups returns a process function that records each group it decodes as
// "key: v1,v2,...", as generated code for SDK-coded values would see it (rt.DecodeIterable
// refuses a state token).
func recordGroups(got *[]string) func([]byte) (int, error) {
	return func(b []byte) (int, error) {
		k, n, err := rt.DecodeString(b)
		if err != nil {
			return 0, err
		}
		vs, m, err := rt.DecodeIterable(b[n:], rt.DecodeString)
		if err != nil {
			return 0, err
		}
		*got = append(*got, k+": "+strings.Join(vs, ","))
		return n + m, nil
	}
}

// pagedGroups serves groups' values by token in pages of at most size bytes, cutting
// values anywhere, as rt.GroupStateReader; fail makes every read fail.
type pagedGroups struct {
	size  int
	data  map[string][]byte
	reads int
	fail  error
}

func (p *pagedGroups) GroupPage(_ context.Context, token, cont []byte) ([]byte, []byte, error) {
	p.reads++
	if p.fail != nil {
		return nil, nil, p.fail
	}
	data, ok := p.data[string(token)]
	if !ok {
		return nil, nil, fmt.Errorf("unknown token %q", token)
	}
	at := 0
	if cont != nil {
		fmt.Sscan(string(cont), &at)
	}
	end := min(len(data), at+p.size)
	if end == len(data) {
		return data[at:end], nil, nil
	}
	return data[at:end], []byte(fmt.Sprint(end)), nil
}

// group appends a group of key and values to stream: inline, or with the values from
// the stored-th on behind a token in p.
func group(in *bundleInput, stream []byte, p *pagedGroups, key string, values []string, stored int) []byte {
	elem := wire.AppendLengthPrefixed(nil, []byte(key))
	inline := values[:len(values)-stored]
	if stored == 0 {
		var vs [][]byte
		for _, v := range values {
			vs = append(vs, wire.AppendLengthPrefixed(nil, []byte(v)))
		}
		elem = wire.AppendIterable(elem, vs)
	} else {
		var vs [][]byte
		for _, v := range inline {
			vs = append(vs, wire.AppendLengthPrefixed(nil, []byte(v)))
		}
		var rest []byte
		for _, v := range values[len(inline):] {
			rest = wire.AppendLengthPrefixed(rest, []byte(v))
		}
		tok := fmt.Sprintf("g%d", len(p.data))
		p.data[tok] = rest
		elem = wire.AppendIterableStart(elem)
		elem = wire.AppendIterableBlock(elem, vs)
		elem = wire.AppendIterableStateToken(elem, []byte(tok))
	}
	return in.codec.Append(stream, wire.WindowedValue{Windows: []wire.Window{wire.GlobalWindow{}}, Element: elem})
}

func runGroups(in *bundleInput, p rt.GroupStateReader, s rt.Stage, blocks [][]byte) error {
	return runStage(rt.WithGroupState(context.Background(), p), in, s, blocks)
}

// A group whose values continue in runner state reaches a chain that does not read state
// itself whole: its inline values, then the ones read page by page (values cut across
// pages), however the data stream cuts it into blocks.
func TestRunBundleInlinesStateBackedGroups(t *testing.T) {
	in := groupsInput(t)
	var big []string
	for i := range 3000 {
		big = append(big, fmt.Sprintf("v%04d%s", i, strings.Repeat("x", i%7)))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 40 {
		p := &pagedGroups{size: []int{1, 7, 100, 5000}[trial%4] * 10, data: map[string][]byte{}}
		var stream []byte
		stream = group(in, stream, p, "a", []string{"1", "2"}, 0)
		stream = group(in, stream, p, "big", big, 2000)
		stream = group(in, stream, p, "all-stored", []string{"only"}, 1)
		stream = group(in, stream, p, "b", []string{"3"}, 0)
		var blocks [][]byte
		for rest := stream; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN([]int{3, 40, 2000, 50_000}[trial%4]))
			blocks = append(blocks, append([]byte(nil), rest[:n]...))
			rest = rest[n:]
		}
		var got []string
		if err := runGroups(in, p, &funcStage{process: recordGroups(&got)}, blocks); err != nil {
			t.Fatalf("trial %d (%d blocks, pages of %d): %v", trial, len(blocks), p.size, err)
		}
		want := []string{"a: 1,2", "big: " + strings.Join(big, ","), "all-stored: only", "b: 3"}
		if len(got) != len(want) {
			t.Fatalf("trial %d: %d groups, want %d", trial, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("trial %d: group %d = %.40q…, want %.40q…", trial, i, got[i], want[i])
			}
		}
	}
}

// stateReadingStage stands for a chain that reads state-backed groups itself.
type stateReadingStage struct{ funcStage }

func (s *stateReadingStage) StartBundle(context.Context, []*rt.Output) (rt.Bundle, error) {
	return s, nil
}
func (*stateReadingStage) ReadsGroupState() {}

// A chain that reads group state itself gets the element as it came; a failed read
// fails the bundle, naming what it was reading.
func TestRunBundleGroupStateReadersAndErrors(t *testing.T) {
	in := groupsInput(t)
	p := &pagedGroups{size: 10, data: map[string][]byte{}}
	stream := group(in, nil, p, "k", []string{"1", "2", "3"}, 2)
	var tokens []string // the state tokens the chain's elements end in
	s := &stateReadingStage{funcStage{process: func(b []byte) (int, error) {
		k, err := in.grouped.key.Skip(b)
		if err != nil {
			return 0, err
		}
		tok, err := in.grouped.values.StateToken(b[k:])
		if err != nil {
			return 0, err
		}
		tokens = append(tokens, string(tok))
		m, err := in.grouped.values.Skip(b[k:])
		return k + m, err
	}}}
	if err := runGroups(in, p, s, [][]byte{stream}); err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0] != "g0" || p.reads != 0 {
		t.Errorf("tokens %q after %d reads by the harness, want [g0] and none", tokens, p.reads)
	}
	p.fail = errors.New("the runner is gone")
	var got []string
	err := runGroups(in, p, &funcStage{process: recordGroups(&got)}, [][]byte{stream})
	if !errors.Is(err, p.fail) || !strings.Contains(err.Error(), "runner state") {
		t.Errorf("failed read: %v", err)
	}
}
