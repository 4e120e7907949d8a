package rt

import (
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/coderx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"

	"github.com/sluice-runner/sluice/runner/wire"
)

// sdkBytes encodes v with the Go SDK's element encoder for c.
func sdkBytes(t *testing.T, c *coder.Coder, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := exec.MakeElementEncoder(c).Encode(&exec.FullValue{Elm: v}, &buf); err != nil {
		t.Fatalf("SDK encoding %v with %v: %v", v, c, err)
	}
	return buf.Bytes()
}

// roundTrip checks that enc writes what the SDK writes for every value, and that dec reads
// it back whole, also when more bytes follow.
func roundTrip[T any](t *testing.T, c *coder.Coder, values []T, enc func([]byte, T) []byte, dec func([]byte) (T, int, error)) {
	t.Helper()
	for _, v := range values {
		want := sdkBytes(t, c, v)
		got := enc([]byte{0xAA}, v)[1:]
		if !bytes.Equal(got, want) {
			t.Errorf("%v: encoded %x, SDK %x", v, got, want)
			continue
		}
		back, n, err := dec(append(got, 0xFF))
		if err != nil || n != len(want) || !reflect.DeepEqual(back, v) {
			t.Errorf("%v: decoded %v, %d bytes, %v; want the value, %d bytes", v, back, n, err, len(want))
		}
		if _, _, err := dec(want[:len(want)-1]); err == nil {
			t.Errorf("%v: decoding a truncated encoding succeeded", v)
		}
	}
}

func varIntZCoder[T any](t *testing.T) *coder.Coder {
	t.Helper()
	rt := reflect.TypeFor[T]()
	cc, err := coderx.NewVarIntZ(rt)
	if err != nil {
		t.Fatal(err)
	}
	return &coder.Coder{Kind: coder.Custom, T: typex.New(rt), Custom: cc}
}

func TestValuesMatchTheSDK(t *testing.T) {
	roundTrip(t, coder.NewBytes(), [][]byte{{}, []byte("x"), bytes.Repeat([]byte{7}, 300)}, AppendBytes, DecodeBytes)
	roundTrip(t, coder.NewString(), []string{"", "word", "çà ✓", string(bytes.Repeat([]byte("ab"), 200))}, AppendString, DecodeString)
	roundTrip(t, coder.NewVarInt(), []int64{0, 1, -1, 127, 128, math.MaxInt64, math.MinInt64}, AppendVarInt, DecodeVarInt)
	roundTrip(t, varIntZCoder[int](t), []int{0, 1, -1, 63, -64, 64, 1 << 40, math.MaxInt, math.MinInt}, AppendVarIntZ[int], DecodeVarIntZ[int])
	roundTrip(t, varIntZCoder[int32](t), []int32{0, -3, math.MaxInt32, math.MinInt32}, AppendVarIntZ[int32], DecodeVarIntZ[int32])
	roundTrip(t, coder.NewDouble(), []float64{0, -1.5, math.Pi, math.Inf(-1), math.MaxFloat64}, AppendDouble, DecodeDouble)
	roundTrip(t, coder.NewBool(), []bool{false, true}, AppendBool, DecodeBool)
	strings := func(b []byte) ([]string, int, error) { return DecodeIterable(b, DecodeString) }
	roundTrip(t, coder.NewI(coder.NewString()), [][]string{{}, {"a"}, {"a", "bb", ""}}, func(dst []byte, vs []string) []byte {
		return AppendIterable(dst, vs, AppendString)
	}, strings)
}

// The SDK decodes an iterable the runner streams in blocks; so must native code.
func TestDecodeIterableInBlocks(t *testing.T) {
	enc := func(s string) []byte { return AppendString(nil, s) }
	b := wire.AppendIterableStart(nil)
	b = wire.AppendIterableBlock(b, [][]byte{enc("a"), enc("b")})
	b = wire.AppendIterableBlock(b, [][]byte{enc("c")})
	b = wire.AppendIterableEnd(b)
	got, n, err := DecodeIterable(b, DecodeString)
	if err != nil || n != len(b) || !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("decoded %q, %d of %d bytes, %v", got, n, len(b), err)
	}
	tok := wire.AppendIterableStateToken(wire.AppendIterableStart(nil), []byte("k"))
	if _, _, err := DecodeIterable(tok, DecodeString); err == nil {
		t.Error("an iterable continued in runner state decoded from bytes alone")
	}
}

func TestMalformed(t *testing.T) {
	for name, err := range map[string]error{
		"bool 2":           second(DecodeBool([]byte{2})),
		"varintz too long": second(DecodeVarIntZ[int8](AppendVarIntZ(nil, 300))),
		"varintz trailing": second(DecodeVarIntZ[int](AppendBytes(nil, []byte{2, 0}))),
		"iterable -2":      second(DecodeIterable([]byte{0xff, 0xff, 0xff, 0xfe}, DecodeString)),
	} {
		if !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("%s: error %v, want wire.ErrMalformed", name, err)
		}
	}
	if _, _, err := DecodeString(AppendVarInt(nil, 5)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("string longer than its bytes: %v, want io.ErrUnexpectedEOF", err)
	}
}

func second[T any](_ T, _ int, err error) error { return err }

// Decoders return errors, never panic, whatever the bytes.
func FuzzDecoders(f *testing.F) {
	f.Add([]byte{})
	f.Add(AppendIterable(nil, []string{"a", "b"}, AppendString))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x05, 0x01, 0x61})
	f.Add(AppendVarIntZ(nil, math.MinInt64))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, n := range []int{
			third(DecodeBytes(b)), third(DecodeString(b)), third(DecodeVarInt(b)), third(DecodeVarIntZ[int16](b)),
			third(DecodeDouble(b)), third(DecodeBool(b)), third(DecodeIterable(b, DecodeVarIntZ[int])),
		} {
			if n < 0 || n > len(b) {
				t.Fatalf("consumed %d of %d bytes", n, len(b))
			}
		}
	})
}

func third[T any](_ T, n int, _ error) int { return n }
