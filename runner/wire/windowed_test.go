package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
)

// elemCase is an element coder plus a generator of values for it.
type elemCase struct {
	name string
	c    *coder.Coder
	gen  func(r *rand.Rand) *exec.FullValue
	// key is the key coder for KV cases, to check Split.
	key *coder.Coder
}

func randBytes(r *rand.Rand) []byte {
	n := []int{0, 1, 5, 127, 128, 300}[r.IntN(6)]
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func randString(r *rand.Rand) string { return string(randBytes(r)) }
func randInt(r *rand.Rand) int64 {
	if r.IntN(2) == 0 {
		return edgeInts[r.IntN(len(edgeInts))]
	}
	return int64(r.Uint64())
}

func elemCases() []elemCase {
	strs := func(r *rand.Rand) []string {
		out := make([]string, r.IntN(4))
		for i := range out {
			out[i] = randString(r)
		}
		return out
	}
	return []elemCase{
		{name: "bytes", c: coder.NewBytes(), gen: func(r *rand.Rand) *exec.FullValue { return &exec.FullValue{Elm: randBytes(r)} }},
		{name: "string", c: coder.NewString(), gen: func(r *rand.Rand) *exec.FullValue { return &exec.FullValue{Elm: randString(r)} }},
		{name: "varint", c: coder.NewVarInt(), gen: func(r *rand.Rand) *exec.FullValue { return &exec.FullValue{Elm: randInt(r)} }},
		{name: "double", c: coder.NewDouble(), gen: func(r *rand.Rand) *exec.FullValue {
			return &exec.FullValue{Elm: []float64{0, -1.5, math.Inf(1), math.MaxFloat64, r.Float64()}[r.IntN(5)]}
		}},
		{name: "bool", c: coder.NewBool(), gen: func(r *rand.Rand) *exec.FullValue { return &exec.FullValue{Elm: r.IntN(2) == 0} }},
		{name: "kv_string_varint", c: coder.NewKV([]*coder.Coder{coder.NewString(), coder.NewVarInt()}), key: coder.NewString(),
			gen: func(r *rand.Rand) *exec.FullValue { return &exec.FullValue{Elm: randString(r), Elm2: randInt(r)} }},
		{name: "kv_bytes_iter_string", c: coder.NewKV([]*coder.Coder{coder.NewBytes(), coder.NewI(coder.NewString())}), key: coder.NewBytes(),
			gen: func(r *rand.Rand) *exec.FullValue { return &exec.FullValue{Elm: randBytes(r), Elm2: strs(r)} }},
		{name: "kv_varint_double", c: coder.NewKV([]*coder.Coder{coder.NewVarInt(), coder.NewDouble()}), key: coder.NewVarInt(),
			gen: func(r *rand.Rand) *exec.FullValue { return &exec.FullValue{Elm: randInt(r), Elm2: r.Float64()} }},
		{name: "iter_iter_varint", c: coder.NewI(coder.NewI(coder.NewVarInt())), gen: func(r *rand.Rand) *exec.FullValue {
			out := make([][]int64, r.IntN(3))
			for i := range out {
				for j := r.IntN(4); j > 0; j-- {
					out[i] = append(out[i], randInt(r))
				}
			}
			return &exec.FullValue{Elm: out}
		}},
		{name: "iter_bool", c: coder.NewI(coder.NewBool()), gen: func(r *rand.Rand) *exec.FullValue {
			out := make([]bool, r.IntN(5))
			return &exec.FullValue{Elm: out}
		}},
	}
}

var testTimestamps = []int64{0, 1, -1, -255, 1700000000000, math.MinInt64, math.MaxInt64,
	int64(mtime.MinTimestamp), int64(mtime.MaxTimestamp), int64(mtime.EndOfGlobalWindowTime)}

func randIntervals(r *rand.Rand) []Window {
	n := 1 + r.IntN(3)
	ws := make([]Window, n)
	for i := range ws {
		switch r.IntN(4) {
		case 0:
			ws[i] = IntervalWindow{Start: MinTimestamp, End: EndOfGlobalWindowTime + 1}
		case 1:
			s := -int64(r.IntN(1 << 20))
			ws[i] = IntervalWindow{Start: s, End: s + int64(r.IntN(1<<16))}
		default:
			s := int64(r.Uint32())
			ws[i] = IntervalWindow{Start: s, End: s + 60000}
		}
	}
	return ws
}

// wvSample is one windowed value with its SDK encoding.
type wvSample struct {
	wv   WindowedValue
	enc  []byte
	elem *exec.FullValue
}

// makeSamples builds many windowed values of ec under window coder wc and
// encodes each with the SDK.
func makeSamples(t *testing.T, r *rand.Rand, ec elemCase, wc *coder.WindowCoder, n int) []wvSample {
	t.Helper()
	wvc := coder.NewW(ec.c, wc)
	var out []wvSample
	for i := 0; i < n; i++ {
		fv := ec.gen(r)
		ts := testTimestamps[i%len(testTimestamps)]
		pane := testPanes[i%len(testPanes)]
		ws := []Window{GlobalWindow{}}
		if wc.Kind == coder.IntervalWindow {
			ws = randIntervals(r)
		}
		full := *fv
		full.Timestamp, full.Windows, full.Pane = typex.EventTime(ts), toSDKWindows(ws), toSDKPane(pane)
		enc := sdkEncode(t, wvc, &full)
		elem := sdkEncode(t, ec.c, fv)
		out = append(out, wvSample{wv: WindowedValue{Timestamp: ts, Windows: ws, Pane: pane, Element: elem}, enc: enc, elem: fv})
	}
	return out
}

func TestWindowedValueMatchesSDK(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, ec := range elemCases() {
		for _, wc := range []*coder.WindowCoder{coder.NewGlobalWindow(), coder.NewIntervalWindow()} {
			t.Run(fmt.Sprintf("%s/%s", ec.name, wc.Kind), func(t *testing.T) {
				comps, ids := compsFor(t, coder.NewW(ec.c, wc))
				c, err := NewWindowedValueCodec(comps, ids[0])
				if err != nil {
					t.Fatal(err)
				}
				sdkDec := exec.MakeWindowDecoder(wc)
				var reuse WindowedValue
				for _, s := range makeSamples(t, r, ec, wc, 60) {
					// Encoding: ours equals the SDK's byte for byte, except
					// that the SDK only writes panes it can encode the way
					// we do, which all test panes are.
					if got := c.Append(nil, s.wv); !bytes.Equal(got, s.enc) {
						t.Fatalf("Append(%+v)\n got %x\nwant %x", s.wv, got, s.enc)
					}
					// Decoding: header fields equal the SDK's decoding.
					sws, sts, spane, err := exec.DecodeWindowedValueHeader(sdkDec, bytes.NewReader(s.enc))
					if err != nil {
						t.Fatal(err)
					}
					for _, dec := range []func() (WindowedValue, int, error){
						func() (WindowedValue, int, error) { return c.Decode(s.enc) },
						func() (WindowedValue, int, error) { n, err := c.DecodeInto(s.enc, &reuse); return reuse, n, err },
					} {
						got, n, err := dec()
						if err != nil || n != len(s.enc) {
							t.Fatalf("Decode(%x) = %d, %v; want %d bytes", s.enc, n, err, len(s.enc))
						}
						if got.Timestamp != int64(sts) || got.Pane != fromSDKPane(spane) ||
							!reflect.DeepEqual(got.Windows, fromSDKWindows(sws)) || !bytes.Equal(got.Element, s.wv.Element) {
							t.Fatalf("Decode(%x) = %+v; SDK ts %d windows %v pane %+v elem %x", s.enc, got, sts, sws, spane, s.wv.Element)
						}
					}
					if n, err := c.Skip(s.enc); err != nil || n != len(s.enc) {
						t.Fatalf("Skip = %d, %v; want %d", n, err, len(s.enc))
					}
					if n, err := c.SkipHeader(s.enc); err != nil || !bytes.Equal(s.enc[n:], s.wv.Element) {
						t.Fatalf("SkipHeader = %d, %v; want the element %x after it", n, err, s.wv.Element)
					}
					if n, err := c.ElementCodec().Skip(s.wv.Element); err != nil || n != len(s.wv.Element) {
						t.Fatalf("element Skip = %d, %v; want %d", n, err, len(s.wv.Element))
					}
					// Every proper prefix is incomplete, never an error or a
					// wrong length.
					for i := 0; i < len(s.enc); i++ {
						if _, err := c.Skip(s.enc[:i]); err != io.ErrUnexpectedEOF {
							t.Fatalf("Skip(prefix %d of %x) = %v, want EOF", i, s.enc, err)
						}
						if _, _, err := c.Decode(s.enc[:i]); err != io.ErrUnexpectedEOF {
							t.Fatalf("Decode(prefix %d of %x) = %v, want EOF", i, s.enc, err)
						}
					}
					if ec.key != nil {
						kv, ok := c.KV()
						if !ok {
							t.Fatal("KV() = false for a KV element coder")
						}
						key, value, err := kv.Split(s.wv.Element)
						if err != nil {
							t.Fatal(err)
						}
						wantKey := sdkEncode(t, ec.key, &exec.FullValue{Elm: s.elem.Elm})
						if !bytes.Equal(key, wantKey) || !bytes.Equal(AppendKV(nil, key, value), s.wv.Element) {
							t.Fatalf("Split(%x) = %x, %x; want key %x", s.wv.Element, key, value, wantKey)
						}
					} else if _, ok := c.KV(); ok {
						t.Fatal("KV() = true for a non-KV element coder")
					}
				}
			})
		}
	}
}

func TestDecodeIntoReusesWindows(t *testing.T) {
	comps, ids := compsFor(t, coder.NewW(coder.NewBytes(), coder.NewIntervalWindow()))
	c, err := NewWindowedValueCodec(comps, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	ws := []Window{IntervalWindow{Start: 0, End: 10}, IntervalWindow{Start: 5, End: 15}}
	enc := c.Append(nil, WindowedValue{Timestamp: 7, Windows: ws, Pane: PaneNoFiring, Element: []byte{1, 42}})
	var wv WindowedValue
	if _, err := c.DecodeInto(enc, &wv); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.DecodeInto(enc, &wv); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("DecodeInto of repeated windows allocates %v times", allocs)
	}
	if !reflect.DeepEqual(wv.Windows, ws) {
		t.Errorf("windows = %v, want %v", wv.Windows, ws)
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = c.Skip(enc) }); allocs != 0 {
		t.Errorf("Skip allocates %v times", allocs)
	}
}

func TestGroupOutputMatchesSDK(t *testing.T) {
	gbk := coder.NewKV([]*coder.Coder{coder.NewString(), coder.NewI(coder.NewVarInt())})
	comps, ids := compsFor(t, gbk)
	c, err := NewCodec(comps, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	vals := []int64{1, -1, math.MaxInt64, 0}
	var encVals [][]byte
	for _, v := range vals {
		encVals = append(encVals, AppendVarInt(nil, v))
	}
	key := AppendLengthPrefixed(nil, []byte("k"))
	want := sdkEncode(t, gbk, &exec.FullValue{Elm: "k", Elm2: vals})
	got := AppendGroup(nil, key, encVals)
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendGroup = %x, SDK %x", got, want)
	}
	// The chunked form decodes to the same values in the SDK.
	chunked := append([]byte(nil), key...)
	chunked = AppendIterableStart(chunked)
	chunked = AppendIterableBlock(chunked, encVals[:1])
	chunked = AppendIterableBlock(chunked, nil)
	chunked = AppendIterableBlock(chunked, encVals[1:])
	chunked = AppendIterableEnd(chunked)
	fv, err := exec.MakeElementDecoder(gbk).Decode(bytes.NewReader(chunked))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fv.Elm2, vals) {
		t.Errorf("SDK decoded chunked iterable as %v, want %v", fv.Elm2, vals)
	}
	for _, enc := range [][]byte{got, chunked} {
		if n, err := c.Skip(enc); err != nil || n != len(enc) {
			t.Errorf("Skip(%x) = %d, %v", enc, n, err)
		}
		_, v, _ := c.(*KVCodec).Split(enc)
		ic := c.(*KVCodec).Value.(*IterableCodec)
		var seen [][]byte
		if _, err := ic.ForEach(v, func(b []byte) error { seen = append(seen, b); return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(seen, encVals) {
			t.Errorf("ForEach = %x, want %x", seen, encVals)
		}
	}
}

func TestStateBackedIterable(t *testing.T) {
	comps, ids := compsFor(t, coder.NewI(coder.NewString()))
	c, err := NewCodec(comps, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	ic := c.(*IterableCodec)
	v := AppendLengthPrefixed(nil, []byte("a"))
	enc := AppendIterableStart(nil)
	enc = AppendIterableBlock(enc, [][]byte{v, v})
	enc = AppendIterableStateToken(enc, []byte("tok"))
	if n, err := ic.Skip(enc); err != nil || n != len(enc) {
		t.Fatalf("Skip = %d, %v", n, err)
	}
	tok, err := ic.StateToken(enc)
	if err != nil || string(tok) != "tok" {
		t.Errorf("StateToken = %q, %v", tok, err)
	}
	count := 0
	if _, err := ic.ForEach(enc, func([]byte) error { count++; return nil }); !errors.Is(err, ErrStateBacked) || count != 2 {
		t.Errorf("ForEach = %v after %d values", err, count)
	}
	for i := 0; i < len(enc); i++ {
		if _, err := ic.Skip(enc[:i]); err != io.ErrUnexpectedEOF {
			t.Errorf("Skip(prefix %d) = %v", i, err)
		}
	}
	if tok, err := ic.StateToken(AppendIterable(nil, [][]byte{v})); tok != nil || err != nil {
		t.Errorf("StateToken of inline iterable = %q, %v", tok, err)
	}
	for _, bad := range [][]byte{
		appendInt32(nil, -2),
		AppendVarInt(appendInt32(nil, -1), -5),
	} {
		if _, err := ic.Skip(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Skip(%x) = %v, want ErrMalformed", bad, err)
		}
	}
}
