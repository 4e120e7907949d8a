package wire

import (
	"fmt"
	"io"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

// WindowedValue is one element with its windowed-value header.
type WindowedValue struct {
	Timestamp int64 // event time, milliseconds
	Windows   []Window
	Pane      PaneInfo
	// Element is the encoded element: on Decode, a sub-slice of the input.
	Element []byte
}

// WindowedValueCodec reads and writes beam:coder:windowed_value:v1 values
// (timestamp, windows, pane, element) and beam:coder:param_windowed_value:v1
// values (the element only; the header is fixed by the coder's payload).
type WindowedValueCodec struct {
	id, urn string
	elem    Codec
	win     WindowCodec
	// zeroSizeWin says windows take no bytes (the global window's coder): decided once,
	// not per element.
	zeroSizeWin bool
	// param is set for param_windowed_value: the header every element gets.
	param *WindowedValue
}

// NewWindowedValueCodec returns the codec of a windowed_value or
// param_windowed_value coder.
func NewWindowedValueCodec(comps *pipepb.Components, wvCoderID string) (*WindowedValueCodec, error) {
	c, err := build(comps, wvCoderID, 0)
	if err != nil {
		return nil, err
	}
	wv, ok := c.(*WindowedValueCodec)
	if !ok {
		return nil, fmt.Errorf("coder %q (%s) is not a windowed value coder", wvCoderID, urnOf(comps, wvCoderID))
	}
	return wv, nil
}

func newWindowedValueCodec(id, urn string, payload []byte, elem Codec, win WindowCodec) (*WindowedValueCodec, error) {
	zero := fixedSizeOf(win) == 0
	c := &WindowedValueCodec{id: id, urn: urn, elem: elem, win: win, zeroSizeWin: zero}
	if urn != URNParamWindowedValue {
		return c, nil
	}
	// The payload is a full windowed value whose element coder is bytes;
	// only its header matters. Some SDKs leave the element off, so accept
	// a payload that ends right after the pane.
	hdr := &WindowedValueCodec{id: id, urn: URNWindowedValue, win: win, zeroSizeWin: zero}
	wv := new(WindowedValue)
	if _, err := hdr.decodeHeader(payload, wv); err != nil {
		return nil, fmt.Errorf("coder %q (%s): payload header: %w", id, urn, errEOFMalformed(err))
	}
	wv.Element = nil
	c.param = wv
	return c, nil
}

// errEOFMalformed turns a premature end into corruption, for inputs that
// are complete by construction (payloads).
func errEOFMalformed(err error) error {
	if err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: truncated", ErrMalformed)
	}
	return err
}

// ElementCodec returns the codec of the element coder.
func (c *WindowedValueCodec) ElementCodec() Codec { return c.elem }

// KV returns the element codec if the element coder is a KV.
func (c *WindowedValueCodec) KV() (*KVCodec, bool) {
	kv, ok := c.elem.(*KVCodec)
	return kv, ok
}

// WindowCodec returns the codec of the window coder.
func (c *WindowedValueCodec) WindowCodec() WindowCodec { return c.win }

// IsParam reports whether this is a param_windowed_value coder, whose wire
// form is the element alone.
func (c *WindowedValueCodec) IsParam() bool { return c.param != nil }

func (c *WindowedValueCodec) fixedSize() int { return -1 }

// Skip returns the length of the windowed value at the start of b.
func (c *WindowedValueCodec) Skip(b []byte) (int, error) {
	n, err := c.SkipHeader(b)
	if err != nil {
		return 0, err
	}
	m, err := c.elem.Skip(b[n:])
	if err != nil {
		return 0, err
	}
	return n + m, nil
}

// SkipHeader returns the length of the header (timestamp, windows, pane) of the windowed
// value at the start of b: its element starts there. A param_windowed_value has none.
func (c *WindowedValueCodec) SkipHeader(b []byte) (int, error) {
	if c.param != nil {
		return 0, nil
	}
	if len(b) < 8 {
		return 0, io.ErrUnexpectedEOF
	}
	n := 8
	cnt, err := readInt32(b[n:])
	if err != nil {
		return 0, err
	}
	n += 4
	if cnt < 0 || (c.zeroSizeWin && cnt > maxZeroSizeWindows) {
		return 0, c.malformed("window count %d", cnt)
	}
	if !c.zeroSizeWin {
		for i := int32(0); i < cnt; i++ {
			m, err := c.win.Skip(b[n:])
			if err != nil {
				return 0, wrapErr(c.id, c.urn, err)
			}
			n += m
		}
	}
	m, err := skipPane(b[n:])
	if err != nil {
		return 0, wrapErr(c.id, c.urn, err)
	}
	return n + m, nil
}

// Decode decodes the windowed value at the start of b and returns the bytes
// consumed. The Windows slice is newly allocated; use DecodeInto on hot paths.
func (c *WindowedValueCodec) Decode(b []byte) (WindowedValue, int, error) {
	var wv WindowedValue
	n, err := c.DecodeInto(b, &wv)
	return wv, n, err
}

// DecodeInto is Decode into wv, reusing wv.Windows' storage. A window equal
// to the one already at the same position of wv.Windows keeps that interface
// value, so runs of elements in the same windows decode without allocating.
// Element aliases b.
func (c *WindowedValueCodec) DecodeInto(b []byte, wv *WindowedValue) (int, error) {
	n := 0
	if c.param != nil {
		wv.Timestamp, wv.Pane = c.param.Timestamp, c.param.Pane
		wv.Windows = append(wv.Windows[:0], c.param.Windows...)
	} else {
		var err error
		if n, err = c.decodeHeader(b, wv); err != nil {
			return 0, err
		}
	}
	m, err := c.elem.Skip(b[n:])
	if err != nil {
		return 0, err
	}
	wv.Element = b[n : n+m]
	return n + m, nil
}

// decodeHeader decodes timestamp, windows and pane into wv.
func (c *WindowedValueCodec) decodeHeader(b []byte, wv *WindowedValue) (int, error) {
	ts, n, err := DecodeInstant(b)
	if err != nil {
		return 0, err
	}
	cnt, err := readInt32(b[n:])
	if err != nil {
		return 0, err
	}
	n += 4
	// Every window but the global one takes bytes, so only a zero-size
	// window coder lets a corrupt count build a huge slice from short input.
	if cnt < 0 || (c.zeroSizeWin && cnt > maxZeroSizeWindows) {
		return 0, c.malformed("window count %d", cnt)
	}
	prev := wv.Windows[:cap(wv.Windows)]
	ws := wv.Windows[:0]
	if cap(ws) < int(cnt) {
		ws = make([]Window, 0, min(int(cnt), len(b)-n+1))
	}
	for i := 0; i < int(cnt); i++ {
		var w Window
		var m int
		switch wc := c.win.(type) {
		case globalWindowCodec:
			w = GlobalWindow{}
		case intervalWindowCodec:
			// Decode to the concrete type first so that an unchanged window
			// reuses the previous interface value instead of allocating.
			iw, k, err := decodeInterval(b[n:])
			if err != nil {
				return 0, wrapErr(c.id, c.urn, err)
			}
			m = k
			if p, ok := prevWindow(prev, i); ok && p == iw {
				w = prev[i]
			} else {
				w = iw
			}
		default:
			w, m, err = wc.Decode(b[n:])
			if err != nil {
				return 0, wrapErr(c.id, c.urn, err)
			}
		}
		n += m
		ws = append(ws, w)
	}
	pane, m, err := DecodePane(b[n:])
	if err != nil {
		return 0, wrapErr(c.id, c.urn, err)
	}
	wv.Timestamp, wv.Windows, wv.Pane = ts, ws, pane
	return n + m, nil
}

// Append appends wv's encoding. For param_windowed_value only the element is
// written, since the header is implied by the coder.
func (c *WindowedValueCodec) Append(dst []byte, wv WindowedValue) []byte {
	if c.param == nil {
		dst = AppendHeader(dst, c.win, wv.Timestamp, wv.Windows, wv.Pane)
	}
	return append(dst, wv.Element...)
}

// AppendHeader appends a windowed-value header: instant, window count and
// windows, pane.
func AppendHeader(dst []byte, wc WindowCodec, ts int64, ws []Window, pane PaneInfo) []byte {
	dst = AppendInstant(dst, ts)
	dst = appendInt32(dst, int32(len(ws)))
	for _, w := range ws {
		dst = wc.Append(dst, w)
	}
	return AppendPane(dst, pane)
}

// maxZeroSizeWindows bounds the window count when windows take no bytes.
const maxZeroSizeWindows = 1 << 16

func prevWindow(prev []Window, i int) (IntervalWindow, bool) {
	if i >= len(prev) {
		return IntervalWindow{}, false
	}
	p, ok := prev[i].(IntervalWindow)
	return p, ok
}

func (c *WindowedValueCodec) malformed(format string, args ...any) error {
	return fmt.Errorf("coder %q (%s): %w: %s", c.id, c.urn, ErrMalformed, fmt.Sprintf(format, args...))
}
