package wire

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

func TestURNs(t *testing.T) {
	for got, want := range map[string]string{
		URNBytes: "beam:coder:bytes:v1", URNKV: "beam:coder:kv:v1", URNLengthPrefix: "beam:coder:length_prefix:v1",
		URNWindowedValue: "beam:coder:windowed_value:v1", URNParamWindowedValue: "beam:coder:param_windowed_value:v1",
		URNStateBackedIterable: "beam:coder:state_backed_iterable:v1", URNTimer: "beam:coder:timer:v1",
		URNRow: "beam:coder:row:v1", URNNullable: "beam:coder:nullable:v1", URNShardedKey: "beam:coder:sharded_key:v1",
		URNCustomWindow: "beam:coder:custom_window:v1", URNIntervalWindow: "beam:coder:interval_window:v1",
	} {
		if got != want {
			t.Errorf("URN %q, want %q", got, want)
		}
	}
	if IsKnownCoderURN(URNRow) || IsKnownCoderURN("beam:go:coder:custom:v1") || !IsKnownCoderURN(URNNullable) {
		t.Error("IsKnownCoderURN misclassifies")
	}
}

func TestTimerMatchesSDK(t *testing.T) {
	for _, wc := range []*coder.WindowCoder{coder.NewGlobalWindow(), coder.NewIntervalWindow()} {
		tc := coder.NewT(coder.NewString(), wc)
		comps, ids := compsFor(t, tc)
		cc, err := NewCodec(comps, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		c := cc.(*TimerCodec)
		ws := []Window{GlobalWindow{}}
		if wc.Kind == coder.IntervalWindow {
			ws = []Window{IntervalWindow{Start: -10, End: 50}}
		}
		for i, clear := range []bool{false, true, false} {
			tm := exec.TimerRecv{
				Key:     &exec.FullValue{Elm: "user-key"},
				Windows: toSDKWindows(ws),
				Pane:    toSDKPane(testPanes[i+4]),
				TimerMap: timers.TimerMap{Family: "fam", Tag: "tag" + strings.Repeat("x", i*100), Clear: clear,
					FireTimestamp: mtime.Time(1000 + i), HoldTimestamp: mtime.MinTimestamp},
			}
			enc := sdkEncode(t, tc, &exec.FullValue{Elm: tm})
			var got Timer
			n, err := c.Decode(enc, &got)
			if err != nil || n != len(enc) {
				t.Fatalf("Decode(%x) = %d, %v", enc, n, err)
			}
			wantKey := AppendLengthPrefixed(nil, []byte("user-key"))
			if !bytes.Equal(got.Key, wantKey) || string(got.Tag) != tm.Tag || got.Clear != clear {
				t.Errorf("Decode = %+v", got)
			}
			if !clear && (got.Fire != int64(tm.FireTimestamp) || got.Hold != int64(tm.HoldTimestamp) || got.Pane != fromSDKPane(tm.Pane)) {
				t.Errorf("Decode times/pane = %+v", got)
			}
			if back := c.Append(nil, got); !bytes.Equal(back, enc) {
				t.Errorf("Append = %x, SDK %x", back, enc)
			}
			if m, err := c.Skip(enc); err != nil || m != len(enc) {
				t.Errorf("Skip = %d, %v", m, err)
			}
			if allocs := testing.AllocsPerRun(20, func() { _, _ = c.Skip(enc) }); allocs != 0 {
				t.Errorf("timer Skip allocates %v times", allocs)
			}
			for j := 0; j < len(enc); j++ {
				if _, err := c.Skip(enc[:j]); err != io.ErrUnexpectedEOF {
					t.Fatalf("Skip(prefix %d) = %v", j, err)
				}
			}
		}
	}
}

// coders builds components by hand, for coders the SDK cannot marshal.
func coders(m map[string]*pipepb.Coder) *pipepb.Components {
	return &pipepb.Components{Coders: m}
}

func leaf(urn string, comps ...string) *pipepb.Coder {
	return &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: urn}, ComponentCoderIds: comps}
}

func TestNullableShardedCustomWindow(t *testing.T) {
	comps := coders(map[string]*pipepb.Coder{
		"s":   leaf(URNStringUTF8),
		"n":   leaf(URNNullable, "s"),
		"sk":  leaf(URNShardedKey, "n"),
		"iw":  leaf(URNIntervalWindow),
		"cw":  leaf(URNCustomWindow, "iw"),
		"wv":  leaf(URNWindowedValue, "sk", "cw"),
		"bad": leaf(URNNullable, "s"),
	})
	c, err := NewWindowedValueCodec(comps, "wv")
	if err != nil {
		t.Fatal(err)
	}
	inner := (intervalWindowCodec{}).Append(nil, IntervalWindow{Start: 3, End: 9})
	cw := CustomWindow{Max: 8, Encoded: string(inner)}
	for _, elem := range [][]byte{
		// shard "ab", key null
		append(AppendLengthPrefixed(nil, []byte("ab")), 0),
		// empty shard, key present
		append(AppendLengthPrefixed(nil, nil), append([]byte{1}, AppendLengthPrefixed(nil, []byte("key"))...)...),
	} {
		wv := WindowedValue{Timestamp: 5, Windows: []Window{cw}, Pane: PaneNoFiring, Element: elem}
		enc := c.Append(nil, wv)
		got, n, err := c.Decode(enc)
		if err != nil || n != len(enc) || got.Windows[0] != cw || !bytes.Equal(got.Element, elem) {
			t.Fatalf("Decode(%x) = %+v, %d, %v", enc, got, n, err)
		}
		if got.Windows[0].MaxTimestamp() != 8 {
			t.Errorf("custom window max = %d", got.Windows[0].MaxTimestamp())
		}
		for i := 0; i < len(enc); i++ {
			if _, err := c.Skip(enc[:i]); err != io.ErrUnexpectedEOF {
				t.Fatalf("Skip(prefix %d) = %v", i, err)
			}
		}
	}
	nc, _ := NewCodec(comps, "bad")
	_, err = nc.Skip([]byte{2})
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), `"bad"`) || !strings.Contains(err.Error(), URNNullable) {
		t.Errorf("bad null indicator: %v", err)
	}
}

func TestParamWindowedValue(t *testing.T) {
	iw := IntervalWindow{Start: 100, End: 200}
	hdr := AppendHeader(nil, intervalWindowCodec{}, 150, []Window{iw}, PaneInfo{Timing: PaneOnTime, IsFirst: true})
	for _, payload := range [][]byte{hdr, AppendLengthPrefixed(append([]byte(nil), hdr...), nil)} {
		comps := coders(map[string]*pipepb.Coder{
			"v":  leaf(URNVarInt),
			"iw": leaf(URNIntervalWindow),
			"pw": {Spec: &pipepb.FunctionSpec{Urn: URNParamWindowedValue, Payload: payload}, ComponentCoderIds: []string{"v", "iw"}},
		})
		c, err := NewWindowedValueCodec(comps, "pw")
		if err != nil {
			t.Fatal(err)
		}
		if !c.IsParam() {
			t.Fatal("IsParam = false")
		}
		enc := AppendVarInt(nil, 300)
		wv, n, err := c.Decode(enc)
		if err != nil || n != len(enc) || wv.Timestamp != 150 || wv.Windows[0] != iw || wv.Pane.Timing != PaneOnTime || !bytes.Equal(wv.Element, enc) {
			t.Errorf("Decode = %+v, %d, %v", wv, n, err)
		}
		if got := c.Append(nil, wv); !bytes.Equal(got, enc) {
			t.Errorf("Append = %x, want element only %x", got, enc)
		}
	}
	comps := coders(map[string]*pipepb.Coder{
		"v": leaf(URNVarInt), "iw": leaf(URNIntervalWindow),
		"pw": {Spec: &pipepb.FunctionSpec{Urn: URNParamWindowedValue, Payload: []byte{1, 2}}, ComponentCoderIds: []string{"v", "iw"}},
	})
	if _, err := NewWindowedValueCodec(comps, "pw"); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated payload: %v", err)
	}
}

func TestCodecErrors(t *testing.T) {
	comps := coders(map[string]*pipepb.Coder{
		"custom": leaf("beam:go:coder:custom:v1"),
		"row":    leaf(URNRow),
		"s":      leaf(URNStringUTF8),
		"kv":     leaf(URNKV, "s", "custom"),
		"kv1":    leaf(URNKV, "s"),
		"gw":     leaf(URNGlobalWindow),
		"wv":     leaf(URNWindowedValue, "s", "s"),
		"loop":   leaf(URNIterable, "loop"),
		"lp":     leaf(URNLengthPrefix, "custom"),
	})
	for id, want := range map[string][]string{
		"custom":  {`"custom"`, "beam:go:coder:custom:v1", "LengthPrefixUnknownCoders"},
		"row":     {`"row"`, URNRow},
		"kv":      {`"kv"`, `"custom"`},
		"kv1":     {`"kv1"`, "components"},
		"wv":      {`"wv"`, "window"},
		"loop":    {"deeper"},
		"missing": {`"missing"`, "not found"},
	} {
		_, err := NewCodec(comps, id)
		if err == nil {
			t.Errorf("NewCodec(%q) succeeded", id)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("NewCodec(%q) error %q does not mention %q", id, err, w)
			}
		}
	}
	if _, err := NewCodec(comps, "custom"); !errors.Is(err, ErrUnknownCoder) {
		t.Errorf("unknown coder error does not wrap ErrUnknownCoder: %v", err)
	}
	if _, err := NewCodec(comps, "lp"); err != nil {
		t.Errorf("length_prefix of an unknown coder: %v", err)
	}
	if _, err := NewWindowedValueCodec(comps, "s"); err == nil {
		t.Error("NewWindowedValueCodec of a string coder succeeded")
	}
	if _, err := NewWindowCodec(comps, "s"); !errors.Is(err, ErrUnknownCoder) {
		t.Errorf("NewWindowCodec of a string coder: %v", err)
	}
}

// TestGarbageNeverPanics feeds random bytes to every codec: each call
// must return a length within the input or an error.
func TestGarbageNeverPanics(t *testing.T) {
	comps, ids := compsFor(t,
		coder.NewW(coder.NewKV([]*coder.Coder{coder.NewString(), coder.NewI(coder.NewI(coder.NewVarInt()))}), coder.NewIntervalWindow()),
		coder.NewW(coder.NewI(coder.NewBool()), coder.NewGlobalWindow()),
		coder.NewT(coder.NewBytes(), coder.NewIntervalWindow()),
		coder.NewKV([]*coder.Coder{coder.NewDouble(), coder.NewN(coder.NewString())}),
	)
	r := rand.New(rand.NewPCG(3, 4))
	for _, id := range ids {
		c, err := NewCodec(comps, id)
		if err != nil {
			t.Fatal(err)
		}
		reader := NewElementReader(c)
		for i := 0; i < 20000; i++ {
			b := make([]byte, r.IntN(40))
			for j := range b {
				b[j] = byte(r.Uint32())
				if r.IntN(4) == 0 {
					b[j] = []byte{0, 1, 0xff, 0x80}[r.IntN(4)]
				}
			}
			n, err := c.Skip(b)
			if err == nil && (n < 0 || n > len(b)) {
				t.Fatalf("%s: Skip(%x) = %d", id, b, n)
			}
			if wv, ok := c.(*WindowedValueCodec); ok {
				var v WindowedValue
				if n, err := wv.DecodeInto(b, &v); err == nil && (n > len(b) || len(v.Element) > n) {
					t.Fatalf("%s: DecodeInto(%x) = %d", id, b, n)
				}
			}
			if tc, ok := c.(*TimerCodec); ok {
				var tm Timer
				_, _ = tc.Decode(b, &tm)
			}
			reader.Reset()
			_ = reader.Feed(b, func([]byte) error { return nil })
		}
	}
}
