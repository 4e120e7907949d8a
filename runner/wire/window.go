package wire

import (
	"fmt"
	"io"
	"math"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

// Beam's time bounds in milliseconds, equal to the Go SDK's mtime values
// (which are Java's, so every SDK agrees on them).
const (
	MinTimestamp int64 = math.MinInt64 / 1000
	MaxTimestamp int64 = math.MaxInt64 / 1000
	// EndOfGlobalWindowTime is the global window's max timestamp: one day
	// before MaxTimestamp, so that a watermark at MaxTimestamp fires it.
	EndOfGlobalWindowTime = MaxTimestamp - 24*60*60*1000
)

// Window is a Beam window as the runner sees it. All implementations are
// comparable, so windows can be map keys when grouping.
type Window interface {
	// MaxTimestamp is the largest event time inside the window (inclusive).
	MaxTimestamp() int64
}

// GlobalWindow is the single window of the global windowing strategy.
type GlobalWindow struct{}

func (GlobalWindow) MaxTimestamp() int64 { return EndOfGlobalWindowTime }
func (GlobalWindow) String() string      { return "[*]" }

// IntervalWindow is the half-open interval [Start, End) in milliseconds.
type IntervalWindow struct {
	Start, End int64
}

func (w IntervalWindow) MaxTimestamp() int64 { return w.End - 1 }
func (w IntervalWindow) String() string      { return fmt.Sprintf("[%d:%d)", w.Start, w.End) }

// CustomWindow is a window of an SDK-defined type, carried by
// beam:coder:custom_window:v1 as its max timestamp plus opaque bytes.
type CustomWindow struct {
	Max int64
	// Encoded is the window's encoding by the custom window coder
	// (a string so that CustomWindow stays comparable).
	Encoded string
}

func (w CustomWindow) MaxTimestamp() int64 { return w.Max }

// WindowCodec reads and writes single windows of one window coder.
type WindowCodec interface {
	Codec
	// Decode decodes the window at the start of b and returns the bytes used.
	Decode(b []byte) (Window, int, error)
	// Append appends w's encoding. It expects windows of the codec's own
	// kind; a mismatched window is converted (see each codec) rather than
	// panicking, because Append has no error to report it with.
	Append(dst []byte, w Window) []byte
}

// NewWindowCodec returns the codec of a window coder: global_window,
// interval_window or custom_window.
func NewWindowCodec(comps *pipepb.Components, coderID string) (WindowCodec, error) {
	c, err := build(comps, coderID, 0)
	if err != nil {
		return nil, err
	}
	wc, ok := c.(WindowCodec)
	if !ok {
		return nil, fmt.Errorf("coder %q (%s) is not a window coder the runner can read: %w", coderID, urnOf(comps, coderID), ErrUnknownCoder)
	}
	return wc, nil
}

type globalWindowCodec struct{}

func (globalWindowCodec) Skip([]byte) (int, error) { return 0, nil }
func (globalWindowCodec) fixedSize() int           { return 0 }

func (globalWindowCodec) Decode([]byte) (Window, int, error) { return GlobalWindow{}, 0, nil }

// Append writes nothing: the global window encodes as no bytes, whatever w is.
func (globalWindowCodec) Append(dst []byte, _ Window) []byte { return dst }

// intervalWindowCodec: end (instant) then varint duration end-start.
type intervalWindowCodec struct{}

func (intervalWindowCodec) fixedSize() int { return -1 }

func (intervalWindowCodec) Skip(b []byte) (int, error) {
	if len(b) < 8 {
		return 0, io.ErrUnexpectedEOF
	}
	n, err := skipUvarint(b[8:])
	return 8 + n, err
}

func (c intervalWindowCodec) Decode(b []byte) (Window, int, error) {
	w, n, err := decodeInterval(b)
	if err != nil {
		return nil, 0, err
	}
	return w, n, nil
}

func decodeInterval(b []byte) (IntervalWindow, int, error) {
	end, _, err := DecodeInstant(b)
	if err != nil {
		return IntervalWindow{}, 0, err
	}
	d, n, err := readUvarint(b[8:])
	if err != nil {
		return IntervalWindow{}, 0, err
	}
	return IntervalWindow{Start: end - int64(d), End: end}, 8 + n, nil
}

// Append encodes an IntervalWindow. Any other window is written as
// [MinTimestamp, MaxTimestamp()+1), the interval it covers.
func (intervalWindowCodec) Append(dst []byte, w Window) []byte {
	iw, ok := w.(IntervalWindow)
	if !ok {
		iw = IntervalWindow{Start: MinTimestamp, End: w.MaxTimestamp() + 1}
	}
	dst = AppendInstant(dst, iw.End)
	return AppendVarInt(dst, iw.End-iw.Start)
}

// customWindowCodec: max timestamp (instant) then the window by its coder.
type customWindowCodec struct {
	id, urn string
	win     Codec
}

func (c *customWindowCodec) fixedSize() int { return -1 }

func (c *customWindowCodec) Skip(b []byte) (int, error) {
	if len(b) < 8 {
		return 0, io.ErrUnexpectedEOF
	}
	n, err := c.win.Skip(b[8:])
	if err != nil {
		return 0, err
	}
	return 8 + n, nil
}

func (c *customWindowCodec) Decode(b []byte) (Window, int, error) {
	n, err := c.Skip(b)
	if err != nil {
		return nil, 0, wrapErr(c.id, c.urn, err)
	}
	maxTS, _, _ := DecodeInstant(b)
	return CustomWindow{Max: maxTS, Encoded: string(b[8:n])}, n, nil
}

// Append encodes a CustomWindow. Any other window is written with its max
// timestamp and no payload, which the SDK will reject rather than misread.
func (c *customWindowCodec) Append(dst []byte, w Window) []byte {
	dst = AppendInstant(dst, w.MaxTimestamp())
	if cw, ok := w.(CustomWindow); ok {
		dst = append(dst, cw.Encoded...)
	}
	return dst
}
