package rt

import (
	"bytes"
	"errors"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats" // registers sumIntFn

	"github.com/sluice-runner/sluice/runner/wire"
)

// The global-window header is what the SDK's windowed-value encoder writes, for the panes
// elements carry (none, early, on time with indices).
func TestGlobalHeaderMatchesSDK(t *testing.T) {
	enc := exec.MakeWindowEncoder(coder.NewGlobalWindow())
	panes := []typex.PaneInfo{
		typex.NoFiringPane(),
		{Timing: typex.PaneEarly, IsFirst: true, Index: 0, NonSpeculativeIndex: -1},
		{Timing: typex.PaneOnTime, IsLast: true, Index: 3, NonSpeculativeIndex: 0},
	}
	for _, ts := range []mtime.Time{mtime.MinTimestamp, 0, 1234567, mtime.EndOfGlobalWindowTime} {
		for _, p := range panes {
			var buf bytes.Buffer
			if err := exec.EncodeWindowedValueHeader(enc, []typex.Window{window.GlobalWindow{}}, ts, p, &buf); err != nil {
				t.Fatal(err)
			}
			want := buf.Bytes()
			h, n, err := DecodeGlobalHeader(append(append([]byte{}, want...), 0x42))
			if err != nil || n != len(want) || h.Timestamp != int64(ts) {
				t.Fatalf("decoding %x: %+v, %d, %v", want, h, n, err)
			}
			if got := AppendGlobalHeader(nil, h); !bytes.Equal(got, want) {
				t.Errorf("ts %d pane %+v: appended %x, SDK %x", ts, p, got, want)
			}
		}
	}
}

func TestDecodeGlobalHeaderRefusesOtherWindowsAndShortInput(t *testing.T) {
	ok := AppendGlobalHeader(nil, Header{Timestamp: 5, Pane: wire.PaneNoFiring})
	twoWindows := append([]byte{}, ok...)
	twoWindows[11] = 2 // the window count's low byte
	for name, b := range map[string][]byte{"empty": nil, "short": ok[:6], "no pane": ok[:12], "two windows": twoWindows} {
		if _, _, err := DecodeGlobalHeader(b); !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("%s: err %v, want wire.ErrMalformed", name, err)
		}
	}
}

// Output passes whole blocks on at OutputFlushBytes and on Flush, counts elements, and
// keeps the first send error.
func TestOutputBlocksAndErrors(t *testing.T) {
	var blocks [][]byte
	fail := error(nil)
	o := NewOutput(func(b []byte) error {
		blocks = append(blocks, append([]byte{}, b...))
		return fail
	})
	h := Header{Pane: wire.PaneNoFiring}
	big := bytes.Repeat([]byte{'x'}, OutputFlushBytes/2)
	for range 3 {
		o.End(AppendBytes(o.Begin(h), big))
	}
	if len(blocks) != 1 || o.Count() != 3 {
		t.Fatalf("after 3 half-block elements: %d blocks, count %d", len(blocks), o.Count())
	}
	if err := o.Flush(); err != nil || len(blocks) != 2 {
		t.Fatalf("Flush: %v, %d blocks", err, len(blocks))
	}
	if err := o.Flush(); err != nil || len(blocks) != 2 {
		t.Fatalf("empty Flush sent a block: %v, %d blocks", err, len(blocks))
	}
	fail = errors.New("stream gone")
	o.End(AppendBytes(o.Begin(h), []byte("y")))
	if err := o.Flush(); err != fail || o.Err() != fail {
		t.Fatalf("Flush after a failed send: %v, Err %v", err, o.Err())
	}
	fail = nil
	o.End(AppendBytes(o.Begin(h), []byte("z")))
	if err := o.Flush(); err == nil || len(blocks) != 3 {
		t.Fatalf("Flush after an error sent again: %v, %d blocks", err, len(blocks))
	}
}

// Func finds a function the Beam runtime has registered, typed, and refuses a wrong type.
func TestFunc(t *testing.T) {
	const name = "github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats.sumIntFn"
	sum, err := Func[func(int, int) int](name)
	if err != nil {
		t.Fatal(err)
	}
	if got := sum(2, 3); got != 5 {
		t.Errorf("sumIntFn(2, 3) = %d", got)
	}
	if _, err := Func[func(string) int](name); err == nil {
		t.Error("resolving sumIntFn as func(string) int succeeded")
	}
}

// SDKCodec writes what the typed coders write for the same values, and reads them back
// with the byte count, also with bytes following.
func TestSDKCodecMatchesTypedCoders(t *testing.T) {
	kv := coder.NewKV([]*coder.Coder{coder.NewString(), coder.NewVarInt()})
	c := NewSDKCodec(coder.NewW(kv, coder.NewGlobalWindow()))
	for _, v := range []struct {
		k string
		n int64
	}{{"", 0}, {"word", 42}, {"ü", -7}} {
		want := AppendVarInt(AppendString(nil, v.k), v.n)
		got, err := c.Append(nil, &exec.FullValue{Elm: v.k, Elm2: v.n})
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%v: Append %x, %v; typed %x", v, got, err, want)
		}
		fv, n, err := c.Decode(append(got, 0xFF))
		if err != nil || n != len(want) || fv.Elm != v.k || fv.Elm2 != v.n {
			t.Fatalf("%v: Decode %+v, %d, %v", v, fv, n, err)
		}
	}
	if _, _, err := c.Decode([]byte{5, 'a'}); err == nil {
		t.Error("decoding a truncated value succeeded")
	}
}
