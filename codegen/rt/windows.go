package rt

import (
	"encoding/binary"
	"fmt"
	"io"
	"iter"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"

	"github.com/sluice-runner/sluice/runner/wire"
)

// Windows are the windows of an element, kept as the wire has them: "" is the global
// window (one window, which encodes as no bytes), anything else the windows' part of a
// windowed-value header under Beam's interval window coder (int32 count, then each
// window: its end as an instant and its length as a varint). A string, so that a Header
// stays comparable and cheap to copy, an output writes the windows as they are, and a
// lifted combine can key its cache by key and window. Only DecodeIntervalHeader and the
// functions of this file make non-global Windows, so their bytes are well formed.
type Windows string

// GlobalWindow is the global window, the windows of every element of a global-window stage.
const GlobalWindow Windows = ""

// IntervalWindows returns the Windows of the given interval windows, in that order.
func IntervalWindows(ws ...wire.IntervalWindow) Windows {
	b := make([]byte, 0, 4+len(ws)*12)
	b = binary.BigEndian.AppendUint32(b, uint32(len(ws)))
	for _, w := range ws {
		b = appendInterval(b, w)
	}
	return Windows(b)
}

func appendInterval(dst []byte, w wire.IntervalWindow) []byte {
	return wire.AppendVarInt(wire.AppendInstant(dst, w.End), w.End-w.Start)
}

// Len is how many windows there are.
func (ws Windows) Len() int {
	if ws == GlobalWindow {
		return 1
	}
	return int(binary.BigEndian.Uint32([]byte(ws[:4])))
}

// Intervals decodes interval windows (none for the global window).
func (ws Windows) Intervals() []wire.IntervalWindow {
	if ws == GlobalWindow {
		return nil
	}
	out := make([]wire.IntervalWindow, 0, ws.Len())
	for rest := []byte(ws[4:]); len(rest) > 0; {
		w, n := decodeWellFormed(rest)
		out = append(out, w)
		rest = rest[n:]
	}
	return out
}

// All yields each window on its own, as the Windows of an element in that window only:
// what the SDK hands a DoFn that observes its window, and a lifted combine's cache key.
func (ws Windows) All() iter.Seq[Windows] {
	return func(yield func(Windows) bool) {
		if ws == GlobalWindow || ws.Len() == 1 {
			yield(ws)
			return
		}
		for rest := ws[4:]; len(rest) > 0; {
			_, n := decodeWellFormed([]byte(rest))
			if !yield(Windows("\x00\x00\x00\x01" + rest[:n])) {
				return
			}
			rest = rest[n:]
		}
	}
}

// Window is the element's first window as the Go SDK's type, the value a DoFn's window
// parameter takes (the SDK invokes such a DoFn once per window, see All).
func (ws Windows) Window() typex.Window {
	if ws == GlobalWindow {
		return window.GlobalWindow{}
	}
	if ws.Len() == 0 {
		return nil
	}
	w, _ := decodeWellFormed([]byte(ws[4:]))
	return window.IntervalWindow{Start: mtime.Time(w.Start), End: mtime.Time(w.End)}
}

func (ws Windows) String() string {
	if ws == GlobalWindow {
		return "[*]"
	}
	return fmt.Sprint(ws.Intervals())
}

// decodeWellFormed decodes an interval window rt wrote or checked.
func decodeWellFormed(b []byte) (wire.IntervalWindow, int) {
	end, _, _ := wire.DecodeInstant(b)
	d, n, _ := wire.DecodeVarInt(b[8:])
	return wire.IntervalWindow{Start: end - d, End: end}, 8 + n
}

// DecodeIntervalHeader decodes the header of a windowed value whose windows are interval
// windows (Beam's interval window coder) and says how many bytes it took.
func DecodeIntervalHeader(b []byte) (Header, int, error) {
	ts, n, err := wire.DecodeInstant(b)
	if err != nil {
		return Header{}, 0, malformedHeader(err)
	}
	if len(b) < n+4 {
		return Header{}, 0, malformedHeader(io.ErrUnexpectedEOF)
	}
	start := n
	c := int32(binary.BigEndian.Uint32(b[n:]))
	if c < 0 {
		return Header{}, 0, fmt.Errorf("%w: window count %d", wire.ErrMalformed, c)
	}
	n += 4
	for range c {
		if len(b) < n+8 {
			return Header{}, 0, malformedHeader(io.ErrUnexpectedEOF)
		}
		d, m, err := wire.DecodeVarInt(b[n+8:])
		if err != nil {
			return Header{}, 0, malformedHeader(err)
		}
		// A negative length would make a start past the end: no coder writes one.
		if d < 0 {
			return Header{}, 0, fmt.Errorf("%w: interval window of length %d", wire.ErrMalformed, d)
		}
		n += 8 + m
	}
	ws := Windows(b[start:n])
	p, m, err := wire.DecodePane(b[n:])
	if err != nil {
		return Header{}, 0, malformedHeader(err)
	}
	return Header{Timestamp: ts, Pane: p, Windows: ws}, n + m, nil
}

// HeaderDecoder is the header decoder of a stage input whose window coder is wc (the
// window part of the input port's coder, as StageEnv.InputCoder gives it): the global
// window's, which refuses anything else and costs what it always has, or the interval
// windows'. Other window coders have no native chains.
func HeaderDecoder(wc *coder.WindowCoder) (func([]byte) (Header, int, error), error) {
	switch {
	case wc == nil:
		return nil, fmt.Errorf("sluice native: the input coder has no window coder")
	case wc.Payload != "":
		return nil, fmt.Errorf("sluice native: a parameterized window coder is not generated")
	case wc.Kind == coder.GlobalWindow:
		return DecodeGlobalHeader, nil
	case wc.Kind == coder.IntervalWindow:
		return DecodeIntervalHeader, nil
	}
	return nil, fmt.Errorf("sluice native: window coder %v is not generated", wc.Kind)
}

// Window assignment, exactly as the Go SDK's exec.WindowInto assigns windows: the same
// millisecond arithmetic (Go's remainder, mtime's clamping to Beam's time bounds), the
// same windows in the same order. Sizes, periods and gaps are in milliseconds and positive.

// AssignFixed is the fixed window of size that holds ts.
func AssignFixed(ts, size int64) Windows {
	start := ts - normalize(ts+size)%size
	end := min(normalize(start+size), normalize(wire.EndOfGlobalWindowTime+1))
	return IntervalWindows(wire.IntervalWindow{Start: start, End: end})
}

// AssignSliding is the sliding windows of size starting every period that hold ts, latest
// first (none when ts falls between windows shorter than their period).
func AssignSliding(ts, size, period int64) Windows {
	// Room on the stack for a few windows (the count is size/period or one more, which can
	// be large): the Windows string is then the element's one allocation.
	var buf [4 + 18*8]byte
	b := buf[:4]
	k := uint32(0)
	lastStart := ts - ts%period
	for start := lastStart; start > normalize(ts-size); start -= period {
		b = appendInterval(b, wire.IntervalWindow{Start: start, End: normalize(start + size)})
		k++
	}
	binary.BigEndian.PutUint32(b, k)
	return Windows(b)
}

// AssignSession is the proto-session of an element at ts: [ts, ts+gap), which the
// runner's grouping merges with the overlapping ones of its key.
func AssignSession(ts, gap int64) Windows {
	return IntervalWindows(wire.IntervalWindow{Start: ts, End: normalize(ts + gap)})
}

// normalize clamps t to Beam's time bounds, as mtime.Normalize does.
func normalize(t int64) int64 { return min(max(t, wire.MinTimestamp), wire.MaxTimestamp) }
