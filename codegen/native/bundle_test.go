package native

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/codegen/rt"
	"github.com/sluice-runner/sluice/runner/wire"
)

// bytesInput is the bundleInput of a port of windowed bytes in the global window.
func bytesInput(t *testing.T) *bundleInput { return portInput(t, coder.NewBytes()) }

// portInput is the bundleInput of a port of values of coder c in the global window, as
// the harness makes it.
func portInput(t *testing.T, c *coder.Coder) *bundleInput {
	t.Helper()
	m := graphx.NewCoderMarshaller()
	id, err := m.Add(coder.NewW(c, coder.NewGlobalWindow()))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := wire.NewWindowedValueCodec(&pipepb.Components{Coders: m.Build()}, id)
	if err != nil {
		t.Fatal(err)
	}
	header, err := rt.HeaderDecoder(coder.NewGlobalWindow())
	if err != nil {
		t.Fatal(err)
	}
	return &bundleInput{header: header, codec: codec, grouped: newGroupedInput(codec)}
}

// funcStage is a stage whose bundles run process on each element's value.
type funcStage struct {
	process func(b []byte) (int, error)
}

func (*funcStage) Teardown() error { return nil }
func (s *funcStage) StartBundle(context.Context, []*rt.Output) (rt.Bundle, error) {
	return s, nil
}
func (*funcStage) Finish() error                                { return nil }
func (s *funcStage) Process(_ rt.Header, b []byte) (int, error) { return s.process(b) }

// recordBytes returns a process function that records the bytes values it decodes in
// got; a value "fail" returns an error that wraps io.EOF, as a user DoFn's may.
func recordBytes(got *[]string) func([]byte) (int, error) {
	return func(b []byte) (int, error) {
		v, n, err := rt.DecodeBytes(b)
		if err != nil {
			return 0, err
		}
		*got = append(*got, string(v))
		if string(v) == "fail" {
			return n, fmt.Errorf("the user's DoFn: %w", io.EOF)
		}
		return n, nil
	}
}

func encodeGlobal(in *bundleInput, values ...string) []byte {
	var b []byte
	for _, v := range values {
		b = in.codec.Append(b, wire.WindowedValue{Windows: []wire.Window{wire.GlobalWindow{}}, Element: wire.AppendLengthPrefixed(nil, []byte(v))})
	}
	return b
}

func runBlocks(t *testing.T, in *bundleInput, blocks [][]byte) ([]string, error) {
	t.Helper()
	var got []string
	err := runStage(context.Background(), in, &funcStage{process: recordBytes(&got)}, blocks)
	return got, err
}

// runStage runs one bundle of s over blocks, as the harness does.
func runStage(ctx context.Context, in *bundleInput, s rt.Stage, blocks [][]byte) error {
	var ib inboxes
	ib.init()
	for _, b := range blocks {
		ib.get("b").put(b, false)
	}
	ib.get("b").put(nil, true)
	_, _, err := runBundle(ctx, s, ib.get("b"), in, nil, func(rt.Bundle) func() { return func() {} })
	return err
}

// Data blocks are a byte stream: elements cut anywhere, a large one over many blocks,
// come out whole and once each.
func TestRunBundleElementsAcrossBlocks(t *testing.T) {
	in := bytesInput(t)
	want := []string{"a", strings.Repeat("x", 100_000), "b", "", strings.Repeat("y", 3000), "c"}
	stream := encodeGlobal(in, want...)
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 60 {
		var blocks [][]byte
		for rest := stream; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN([]int{2, 50, 4000, 70_000}[trial%4]))
			blocks = append(blocks, append([]byte(nil), rest[:n]...))
			rest = rest[n:]
		}
		got, err := runBlocks(t, in, blocks)
		if err != nil {
			t.Fatalf("trial %d (%d blocks): %v", trial, len(blocks), err)
		}
		if len(got) != len(want) {
			t.Fatalf("trial %d (%d blocks): %d elements, want %d", trial, len(blocks), len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("trial %d: element %d is %d bytes, want %d", trial, i, len(got[i]), len(want[i]))
			}
		}
	}
}

// A stream that ends inside an element fails the bundle; an error of the user's that
// wraps io.EOF is the bundle's error, its element processed once, not taken for a cut.
func TestRunBundleTruncatedStreamAndUserEOF(t *testing.T) {
	in := bytesInput(t)
	stream := encodeGlobal(in, "a", strings.Repeat("x", 1000))
	got, err := runBlocks(t, in, [][]byte{stream[:500], stream[500 : len(stream)-1]})
	if !errors.Is(err, wire.ErrMalformed) || len(got) != 1 {
		t.Errorf("truncated: %d elements, %v; want 1 and ErrMalformed", len(got), err)
	}
	stream = encodeGlobal(in, "a", "fail", "b")
	got, err = runBlocks(t, in, [][]byte{stream})
	if !errors.Is(err, io.EOF) || !bytes.Equal([]byte(strings.Join(got, ",")), []byte("a,fail")) {
		t.Errorf("user error: elements %q, %v; want a,fail and the DoFn's error", got, err)
	}
}
