package rt

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
)

// captureNode records the elements an SDK node hands on, with their value streams.
type captureNode struct {
	elms    []exec.FullValue
	streams [][]exec.ReStream
}

func (*captureNode) ID() exec.UnitID                                             { return 1 }
func (*captureNode) Up(context.Context) error                                    { return nil }
func (*captureNode) StartBundle(context.Context, string, exec.DataContext) error { return nil }
func (*captureNode) FinishBundle(context.Context) error                          { return nil }
func (*captureNode) Down(context.Context) error                                  { return nil }
func (c *captureNode) ProcessElement(_ context.Context, elm *exec.FullValue, values ...exec.ReStream) error {
	c.elms = append(c.elms, *elm)
	c.streams = append(c.streams, values)
	return nil
}

// rowValue is a value the SDK codes as a schema row: chains code it with SDKCodec.
type rowValue struct {
	A int
	B string
}

// What a chain's inject hands on (the value's typed encoding, or the SDK's coder through
// SDKCodec, tagged as an rt.Union and appended with AppendUnion) is what the SDK's Inject
// node makes and its union coder writes; DecodeUnion and the expand's decoding read it
// back as the SDK's Expand does.
func TestUnionMatchesTheSDK(t *testing.T) {
	union := coder.NewKV([]*coder.Coder{varIntZCoder[int](t), coder.NewBytes()})
	for _, tc := range []struct {
		name  string
		c     *coder.Coder
		v     any
		typed func([]byte) []byte // nil: no typed coder, SDKCodec codes it
	}{
		{"string", coder.NewString(), "çà ✓", func(b []byte) []byte { return AppendString(b, "çà ✓") }},
		{"varintz", varIntZCoder[int](t), -300, func(b []byte) []byte { return AppendVarIntZ(b, -300) }},
		{"varint", coder.NewVarInt(), int64(1 << 40), func(b []byte) []byte { return AppendVarInt(b, 1<<40) }},
		{"bytes", coder.NewBytes(), []byte{0, 1, 2}, func(b []byte) []byte { return AppendBytes(b, []byte{0, 1, 2}) }},
		{"row", coder.NewR(typex.New(reflect.TypeFor[rowValue]())), rowValue{A: 7, B: "x"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 2
			out := &captureNode{}
			inject := &exec.Inject{UID: 2, N: n, ValueEncoder: exec.MakeElementEncoder(tc.c), Out: out}
			if err := inject.ProcessElement(context.Background(), &exec.FullValue{Elm: "key", Elm2: tc.v}); err != nil {
				t.Fatal(err)
			}
			u := out.elms[0].Elm2.(*exec.FullValue)
			sdkRaw := u.Elm2.([]byte)
			if u.Elm.(int) != n {
				t.Fatalf("the SDK's inject tagged %v, want %d", u.Elm, n)
			}
			raw, err := NewSDKCodec(tc.c).Append(nil, &exec.FullValue{Elm: tc.v})
			if err != nil {
				t.Fatal(err)
			}
			if tc.typed != nil {
				raw = tc.typed(nil)
			}
			if !bytes.Equal(raw, sdkRaw) {
				t.Fatalf("raw value %x, SDK's inject %x", raw, sdkRaw)
			}
			var want bytes.Buffer
			if err := exec.MakeElementEncoder(union).Encode(u, &want); err != nil {
				t.Fatal(err)
			}
			got := AppendUnion([]byte{0xAA}, Union{N: n, Raw: raw})[1:]
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("union %x, SDK's union coder %x", got, want.Bytes())
			}
			back, m, err := DecodeUnion(append(got, 0xFF))
			if err != nil || m != len(got) || back.N != n || !bytes.Equal(back.Raw, raw) {
				t.Fatalf("DecodeUnion: %+v, %d bytes, %v", back, m, err)
			}
			if _, _, err := DecodeUnion(got[:len(got)-1]); err == nil {
				t.Error("decoding a truncated union succeeded")
			}

			// The SDK's Expand decodes the raw value with the value coder, as the chain does.
			expand := &exec.Expand{UID: 3, ValueDecoders: []exec.ElementDecoder{nil, nil, exec.MakeElementDecoder(tc.c)}, Out: out}
			grouped := &exec.FixedReStream{Buf: []exec.FullValue{{Elm: n, Elm2: back.Raw}}}
			if err := expand.ProcessElement(context.Background(), &exec.FullValue{Elm: "key"}, grouped); err != nil {
				t.Fatal(err)
			}
			s, err := out.streams[1][n].Open()
			if err != nil {
				t.Fatal(err)
			}
			fv, err := s.Read()
			if err != nil {
				t.Fatal(err)
			}
			mine, _, err := NewSDKCodec(tc.c).Decode(back.Raw)
			if err != nil || !reflect.DeepEqual(mine.Elm, fv.Elm) || !reflect.DeepEqual(fv.Elm, tc.v) {
				t.Errorf("decoded %v (%v), the SDK's expand %v, want %v", mine, err, fv.Elm, tc.v)
			}
		})
	}
}

// The coders chains code SDK-coded values with are the SDK's nodes' own.
func TestCoGBKValueCoders(t *testing.T) {
	str := coder.NewString()
	lp := &coder.Coder{Kind: coder.LP, T: str.T, Components: []*coder.Coder{str}}
	c, err := InjectValueCoder(coder.NewKV([]*coder.Coder{str, lp}))
	if err != nil || c != str {
		t.Errorf("InjectValueCoder: %v, %v; want the value coder without its length prefix", c, err)
	}
	if _, err := InjectValueCoder(str); err == nil {
		t.Error("InjectValueCoder of a non-KV coder succeeded")
	}
	vi := coder.NewVarInt()
	cs, err := ExpandValueCoders(coder.NewCoGBK([]*coder.Coder{str, vi, str}))
	if err != nil || len(cs) != 2 || cs[0] != vi || cs[1] != str {
		t.Errorf("ExpandValueCoders: %v, %v; want each input's value coder", cs, err)
	}
	if _, err := ExpandValueCoders(coder.NewKV([]*coder.Coder{str, str})); err == nil {
		t.Error("ExpandValueCoders of a KV coder succeeded")
	}
}
