package wire

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
)

var edgeInts = []int64{0, 1, -1, 2, -2, 63, 64, 127, 128, 255, 256, 16383, 16384, -255, -256,
	math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
	int64(mtime.MinTimestamp), int64(mtime.MaxTimestamp), int64(mtime.EndOfGlobalWindowTime), 1700000000000}

func TestTimeConstantsMatchMtime(t *testing.T) {
	if MinTimestamp != int64(mtime.MinTimestamp) || MaxTimestamp != int64(mtime.MaxTimestamp) ||
		EndOfGlobalWindowTime != int64(mtime.EndOfGlobalWindowTime) {
		t.Errorf("time bounds differ from mtime: %d %d %d", MinTimestamp, MaxTimestamp, EndOfGlobalWindowTime)
	}
	if got := (GlobalWindow{}).MaxTimestamp(); got != int64(mtime.EndOfGlobalWindowTime) {
		t.Errorf("GlobalWindow.MaxTimestamp = %d", got)
	}
	if got := (IntervalWindow{Start: 0, End: 10}).MaxTimestamp(); got != 9 {
		t.Errorf("IntervalWindow.MaxTimestamp = %d, want 9", got)
	}
}

func TestInstantMatchesSDK(t *testing.T) {
	for _, v := range edgeInts {
		var want bytes.Buffer
		if err := coder.EncodeEventTime(typex.EventTime(v), &want); err != nil {
			t.Fatal(err)
		}
		got := AppendInstant(nil, v)
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("AppendInstant(%d) = %x, SDK %x", v, got, want.Bytes())
		}
		dec, n, err := DecodeInstant(got)
		if err != nil || n != 8 || dec != v {
			t.Errorf("DecodeInstant(%x) = %d, %d, %v", got, dec, n, err)
		}
	}
	// Spot values from the proto's documentation.
	if got := AppendInstant(nil, -255); !bytes.Equal(got, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}) {
		t.Errorf("instant -255 = %x", got)
	}
	if _, _, err := DecodeInstant(make([]byte, 7)); err != io.ErrUnexpectedEOF {
		t.Errorf("short instant: %v", err)
	}
}

func TestVarIntMatchesSDK(t *testing.T) {
	for _, v := range edgeInts {
		var want bytes.Buffer
		if err := coder.EncodeVarInt(v, &want); err != nil {
			t.Fatal(err)
		}
		got := AppendVarInt(nil, v)
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("AppendVarInt(%d) = %x, SDK %x", v, got, want.Bytes())
		}
		dec, n, err := DecodeVarInt(got)
		if err != nil || n != len(got) || dec != v {
			t.Errorf("DecodeVarInt(%x) = %d, %d, %v", got, dec, n, err)
		}
		if m, err := skipUvarint(got); err != nil || m != len(got) {
			t.Errorf("skipUvarint(%x) = %d, %v", got, m, err)
		}
		for i := 0; i < len(got); i++ {
			if _, err := skipUvarint(got[:i]); err != io.ErrUnexpectedEOF {
				t.Errorf("skipUvarint(%x) = %v, want EOF", got[:i], err)
			}
		}
	}
	tooLong := bytes.Repeat([]byte{0xff}, 11)
	if _, err := skipUvarint(tooLong); !errors.Is(err, ErrMalformed) {
		t.Errorf("11-byte varint: %v", err)
	}
	if _, _, err := DecodeVarInt(tooLong); !errors.Is(err, ErrMalformed) {
		t.Errorf("11-byte varint decode: %v", err)
	}
	// Tenth byte may only carry the top bit.
	over := append(bytes.Repeat([]byte{0xff}, 9), 0x02)
	if _, err := skipUvarint(over); !errors.Is(err, ErrMalformed) {
		t.Errorf("overflowing varint: %v", err)
	}
}

func TestLengthPrefixed(t *testing.T) {
	for _, l := range []int{0, 1, 127, 128, 300} {
		v := bytes.Repeat([]byte{7}, l)
		enc := AppendLengthPrefixed(nil, v)
		var want bytes.Buffer
		if err := coder.EncodeBytes(v, &want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, want.Bytes()) {
			t.Errorf("len %d: %x vs SDK %x", l, enc, want.Bytes())
		}
		got, n, err := DecodeLengthPrefixed(enc)
		if err != nil || n != len(enc) || !bytes.Equal(got, v) {
			t.Errorf("len %d: decode %d %v", l, n, err)
		}
		if _, _, err := DecodeLengthPrefixed(enc[:len(enc)-1]); l > 0 && err != io.ErrUnexpectedEOF {
			t.Errorf("len %d truncated: %v", l, err)
		}
	}
	huge := AppendVarInt(nil, 1<<50)
	if _, _, err := DecodeLengthPrefixed(huge); !errors.Is(err, ErrMalformed) {
		t.Errorf("huge length: %v", err)
	}
}

var testPanes = []PaneInfo{
	PaneNoFiring,
	{Timing: PaneEarly, IsFirst: true, Index: 0, NonSpeculativeIndex: -1},
	{Timing: PaneEarly, Index: 3, NonSpeculativeIndex: -1},
	{Timing: PaneEarly, Index: 300, NonSpeculativeIndex: -1},
	{Timing: PaneOnTime, IsFirst: true, IsLast: true},
	{Timing: PaneOnTime, Index: 4, NonSpeculativeIndex: 4},
	{Timing: PaneOnTime, IsLast: true, Index: 4, NonSpeculativeIndex: 0},
	{Timing: PaneLate, Index: 5, NonSpeculativeIndex: 2},
	{Timing: PaneLate, IsLast: true, Index: 1, NonSpeculativeIndex: 1},
	{Timing: PaneLate, Index: 1 << 40, NonSpeculativeIndex: 1 << 39},
	{Timing: PaneUnknown, IsFirst: true},
	{Timing: PaneUnknown, Index: 7, NonSpeculativeIndex: 7}, // indices dropped, as in the SDKs
}

func TestPaneMatchesSDK(t *testing.T) {
	for _, p := range testPanes {
		var want bytes.Buffer
		if err := coder.EncodePane(toSDKPane(p), &want); err != nil {
			t.Fatalf("SDK EncodePane(%+v): %v", p, err)
		}
		got := AppendPane(nil, p)
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("AppendPane(%+v) = %x, SDK %x", p, got, want.Bytes())
		}
		sdk, err := coder.DecodePane(bytes.NewReader(got))
		if err != nil {
			t.Fatal(err)
		}
		dec, n, err := DecodePane(got)
		if err != nil || n != len(got) || dec != fromSDKPane(sdk) {
			t.Errorf("DecodePane(%x) = %+v, %d, %v; SDK %+v", got, dec, n, err, sdk)
		}
		if m, err := skipPane(got); err != nil || m != len(got) {
			t.Errorf("skipPane(%x) = %d, %v", got, m, err)
		}
		for i := 0; i < len(got); i++ {
			if _, _, err := DecodePane(got[:i]); err != io.ErrUnexpectedEOF {
				t.Errorf("DecodePane(%x) = %v, want EOF", got[:i], err)
			}
			if _, err := skipPane(got[:i]); err != io.ErrUnexpectedEOF {
				t.Errorf("skipPane(%x) = %v, want EOF", got[:i], err)
			}
		}
	}
	if got := AppendPane(nil, PaneNoFiring); !bytes.Equal(got, []byte{0x0f}) {
		t.Errorf("no-firing pane = %x, want 0f", got)
	}
	if _, _, err := DecodePane([]byte{0x3f}); !errors.Is(err, ErrMalformed) {
		t.Errorf("pane kind 3: %v", err)
	}
}
