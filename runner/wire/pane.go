package wire

import (
	"fmt"
	"io"
)

// PaneTiming is when a pane fired relative to the watermark. The values are
// Beam's two-bit timing codes.
type PaneTiming byte

const (
	PaneEarly   PaneTiming = 0
	PaneOnTime  PaneTiming = 1
	PaneLate    PaneTiming = 2
	PaneUnknown PaneTiming = 3
)

func (t PaneTiming) String() string {
	switch t {
	case PaneEarly:
		return "EARLY"
	case PaneOnTime:
		return "ON_TIME"
	case PaneLate:
		return "LATE"
	default:
		return "UNKNOWN"
	}
}

// PaneInfo describes which firing of a window produced an element.
// NonSpeculativeIndex is -1 for early panes.
type PaneInfo struct {
	Timing              PaneTiming
	IsFirst, IsLast     bool
	Index               int64
	NonSpeculativeIndex int64
}

// PaneNoFiring is the pane of elements that were never grouped by a trigger.
var PaneNoFiring = PaneInfo{Timing: PaneUnknown, IsFirst: true, IsLast: true}

// Pane encodings, chosen by the high nibble of the first byte.
const (
	paneOneByte    = 0 // indices are zero (or timing unknown)
	paneOneIndex   = 1 // index; non-speculative index derived from it
	paneTwoIndices = 2 // index and non-speculative index
)

// AppendPane appends Beam's pane encoding. The choice of the three forms
// matches the Java and Go SDKs byte for byte, so encodings compare equal.
func AppendPane(dst []byte, p PaneInfo) []byte {
	b := byte(p.Timing&3) << 2
	if p.IsFirst {
		b |= 0x01
	}
	if p.IsLast {
		b |= 0x02
	}
	switch {
	case (p.Index == 0 && p.NonSpeculativeIndex == 0) || p.Timing == PaneUnknown:
		return append(dst, b)
	case p.Index == p.NonSpeculativeIndex || p.Timing == PaneEarly:
		// For early panes the decoder derives -1, so only Index is sent.
		dst = append(dst, b|paneOneIndex<<4)
		return AppendVarInt(dst, p.Index)
	default:
		dst = append(dst, b|paneTwoIndices<<4)
		dst = AppendVarInt(dst, p.Index)
		return AppendVarInt(dst, p.NonSpeculativeIndex)
	}
}

// DecodePane decodes a pane from the start of b.
func DecodePane(b []byte) (PaneInfo, int, error) {
	if len(b) == 0 {
		return PaneInfo{}, 0, io.ErrUnexpectedEOF
	}
	h := b[0]
	p := PaneInfo{
		Timing:  PaneTiming(h>>2) & 3,
		IsFirst: h&0x01 != 0,
		IsLast:  h&0x02 != 0,
	}
	n := 1
	switch h >> 4 {
	case paneOneByte:
		return p, n, nil
	case paneOneIndex:
		idx, m, err := DecodeVarInt(b[n:])
		if err != nil {
			return PaneInfo{}, 0, err
		}
		p.Index, p.NonSpeculativeIndex = idx, idx
		if p.Timing == PaneEarly {
			p.NonSpeculativeIndex = -1
		}
		return p, n + m, nil
	case paneTwoIndices:
		idx, m, err := DecodeVarInt(b[n:])
		if err != nil {
			return PaneInfo{}, 0, err
		}
		n += m
		ns, m, err := DecodeVarInt(b[n:])
		if err != nil {
			return PaneInfo{}, 0, err
		}
		p.Index, p.NonSpeculativeIndex = idx, ns
		return p, n + m, nil
	default:
		return PaneInfo{}, 0, fmt.Errorf("%w: pane encoding kind %d", ErrMalformed, h>>4)
	}
}

// skipPane returns the encoded length of the pane at the start of b.
func skipPane(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	kind := b[0] >> 4
	if kind > paneTwoIndices {
		return 0, fmt.Errorf("%w: pane encoding kind %d", ErrMalformed, kind)
	}
	n := 1
	for i := byte(0); i < kind; i++ {
		m, err := skipUvarint(b[n:])
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}
