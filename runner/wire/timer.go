package wire

import (
	"io"
)

// Timer is one beam:coder:timer:v1 value as the runner needs it: enough to
// deduplicate (key, windows, family tag) and to order by fire time and hold
// the watermark. Key and Tag alias the decoded input.
type Timer struct {
	Key     []byte // encoded user key
	Tag     []byte // dynamic timer tag (UTF-8)
	Windows []Window
	Clear   bool
	// Fire, Hold and Pane are only meaningful when Clear is false; a
	// clearing timer has no more fields on the wire.
	Fire, Hold int64
	Pane       PaneInfo
}

// TimerCodec reads and writes beam:coder:timer:v1 values, laid out as
// key | tag (string) | windows (int32 count, windows) | clear (bool) and,
// unless clear, fire instant | hold instant | pane.
type TimerCodec struct {
	id     string
	Key    Codec
	Window WindowCodec
}

func (c *TimerCodec) fixedSize() int { return -1 }

// Skip returns the length of the timer at the start of b.
func (c *TimerCodec) Skip(b []byte) (int, error) {
	var t Timer
	return c.decode(b, &t, false)
}

// Decode decodes the timer at the start of b into t, reusing t.Windows.
func (c *TimerCodec) Decode(b []byte, t *Timer) (int, error) {
	return c.decode(b, t, true)
}

func (c *TimerCodec) decode(b []byte, t *Timer, full bool) (int, error) {
	n, err := c.Key.Skip(b)
	if err != nil {
		return 0, err
	}
	key := b[:n]
	tag, m, err := DecodeLengthPrefixed(b[n:])
	if err != nil {
		return 0, wrapErr(c.id, URNTimer, err)
	}
	n += m
	cnt, err := readInt32(b[n:])
	if err != nil {
		return 0, err
	}
	n += 4
	if cnt < 0 || (fixedSizeOf(c.Window) == 0 && cnt > maxZeroSizeWindows) {
		return 0, c.malformed("window count %d", cnt)
	}
	ws := t.Windows[:0]
	for i := int32(0); i < cnt; i++ {
		if full {
			w, m, err := c.Window.Decode(b[n:])
			if err != nil {
				return 0, wrapErr(c.id, URNTimer, err)
			}
			ws = append(ws, w)
			n += m
			continue
		}
		m, err := c.Window.Skip(b[n:])
		if err != nil {
			return 0, wrapErr(c.id, URNTimer, err)
		}
		n += m
	}
	if n >= len(b) {
		return 0, io.ErrUnexpectedEOF
	}
	clear := b[n] != 0
	n++
	var fire, hold int64
	pane := PaneNoFiring
	if !clear {
		if len(b)-n < 16 {
			return 0, io.ErrUnexpectedEOF
		}
		fire, _, _ = DecodeInstant(b[n:])
		hold, _, _ = DecodeInstant(b[n+8:])
		n += 16
		if full {
			pane, m, err = DecodePane(b[n:])
		} else {
			m, err = skipPane(b[n:])
		}
		if err != nil {
			return 0, wrapErr(c.id, URNTimer, err)
		}
		n += m
	}
	if full {
		*t = Timer{Key: key, Tag: tag, Windows: ws, Clear: clear, Fire: fire, Hold: hold, Pane: pane}
	}
	return n, nil
}

// Append appends t's encoding.
func (c *TimerCodec) Append(dst []byte, t Timer) []byte {
	dst = append(dst, t.Key...)
	dst = AppendLengthPrefixed(dst, t.Tag)
	dst = appendInt32(dst, int32(len(t.Windows)))
	for _, w := range t.Windows {
		dst = c.Window.Append(dst, w)
	}
	if t.Clear {
		return append(dst, 1)
	}
	dst = append(dst, 0)
	dst = AppendInstant(dst, t.Fire)
	dst = AppendInstant(dst, t.Hold)
	return AppendPane(dst, t.Pane)
}

func (c *TimerCodec) malformed(format string, args ...any) error {
	return wrapErr(c.id, URNTimer, malformedf(format, args...))
}
