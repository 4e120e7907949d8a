package rt

import (
	"bytes"
	"container/heap"
	"fmt"
	"io"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
)

// FiredTimer is a timer the chain runs the DoFn's OnTimer for: its key (decoded by the
// family's key coder), family and tag, and the header OnTimer's outputs get: the timer's
// hold time, no firing pane, its one window. ProviderHeader has the timer's own pane
// instead, which the call's timer provider sets timers with (as the SDK's).
type FiredTimer struct {
	Key            any
	Family, Tag    string
	Header         Header
	ProviderHeader Header
}

// ProcessTimers fires the timers of family that the runner sent, encoded back to back,
// calling fire for each in each of its windows: exec's ParDo.ProcessTimers, ported. Timers
// the bundle set for the same key and window that fire no later go first (each once: it
// is cleared when it fires), and a runner's timer the bundle reset since does not fire.
func (b *UserTimersBundle) ProcessTimers(family string, data []byte, fire func(FiredTimer) error) error {
	f, ok := b.u.families[family]
	if !ok {
		return fmt.Errorf("sluice native: timers of family %q, which the ParDo does not declare", family)
	}
	r := bytes.NewReader(data)
	var recvd []timerRecv
	for r.Len() > 0 {
		t, err := decodeTimer(f.keyDec, f.winDec, r)
		if err != nil {
			return fmt.Errorf("sluice native: decoding a timer of family %q: %w", family, err)
		}
		recvd = append(recvd, t)
	}
	for _, t := range recvd {
		b.currentKeyString, b.keyEncoded = t.keyString, true
		for _, w := range t.windows {
			mods := b.modificationsOf(windowKeyPair{window: w, key: t.keyString})
			index := sortableTimer{Domain: f.domain, TimerMap: t.TimerMap, Pane: t.pane}
			index.Family = family
			iter := mods.earlierTimers[int(f.domain)].headSetIter(index)
			for {
				inserted, ok := iter()
				if !ok {
					break
				}
				if mods.isModified(inserted) {
					continue
				}
				mods.modified[timerKey{family: inserted.Family, tag: inserted.Tag}] = inserted.cleared()
				if err := b.fire(fire, family, t.key, w, inserted.TimerMap, inserted.Pane); err != nil {
					return err
				}
			}
			if !mods.isModified(index) {
				if err := b.fire(fire, family, t.key, w, t.TimerMap, t.pane); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (b *UserTimersBundle) fire(fire func(FiredTimer) error, family string, key any, w typex.Window, t timers.TimerMap, pane typex.PaneInfo) error {
	ws, err := windowsOf(w)
	if err != nil {
		return err
	}
	return fire(FiredTimer{
		Key: key, Family: family, Tag: t.Tag,
		Header:         Header{Timestamp: int64(t.HoldTimestamp), Pane: wirePane(typex.NoFiringPane()), Windows: ws},
		ProviderHeader: Header{Timestamp: int64(t.HoldTimestamp), Pane: wirePane(pane), Windows: ws},
	})
}

// timerRecv is a timer the runner sent (exec's TimerRecv).
type timerRecv struct {
	key       any
	keyString string
	windows   []typex.Window
	pane      typex.PaneInfo
	timers.TimerMap
}

// decodeTimer decodes a timer as exec's decodeTimer does.
func decodeTimer(dec exec.ElementDecoder, win exec.WindowDecoder, r *bytes.Reader) (timerRecv, error) {
	var t timerRecv
	start := r.Len()
	key, err := dec.Decode(r)
	if err != nil {
		return t, fmt.Errorf("decoding the key: %w", err)
	}
	t.key = key.Elm
	t.keyString = keyBytes(r, start)
	if t.Tag, err = coder.DecodeStringUTF8(r); err != nil && err != io.EOF {
		return t, fmt.Errorf("decoding the tag: %w", err)
	}
	if t.windows, err = win.Decode(r); err != nil {
		return t, fmt.Errorf("decoding the windows: %w", err)
	}
	if t.Clear, err = coder.DecodeBool(r); err != nil {
		return t, fmt.Errorf("decoding the clear bit: %w", err)
	}
	if t.Clear {
		return t, nil
	}
	if t.FireTimestamp, err = coder.DecodeEventTime(r); err != nil && err != io.EOF {
		return t, fmt.Errorf("decoding the fire time: %w", err)
	}
	if t.HoldTimestamp, err = coder.DecodeEventTime(r); err != nil && err != io.EOF {
		return t, fmt.Errorf("decoding the hold time: %w", err)
	}
	if t.pane, err = coder.DecodePane(r); err != nil && err != io.EOF {
		return t, fmt.Errorf("decoding the pane: %w", err)
	}
	return t, nil
}

// keyBytes are the bytes r read since it had start bytes left: the encoded key.
func keyBytes(r *bytes.Reader, start int) string {
	n := start - r.Len()
	b := make([]byte, n)
	_, _ = r.Seek(int64(-n), io.SeekCurrent)
	_, _ = io.ReadFull(r, b)
	return string(b)
}

// sortableTimer, timerHeap and timerModifications are exec's: the timers set per key and
// window, by family and tag, and by firing order per time domain.
type sortableTimer struct {
	Domain timers.TimeDomain
	timers.TimerMap
	Pane typex.PaneInfo
}

func (st sortableTimer) cleared() sortableTimer {
	st.Clear = true
	st.FireTimestamp = 0
	st.HoldTimestamp = 0
	st.Pane = typex.PaneInfo{}
	return st
}

func (st sortableTimer) less(right sortableTimer) bool {
	left := st
	if left.Domain != right.Domain {
		return left.Domain == timers.ProcessingTimeDomain && right.Domain != timers.ProcessingTimeDomain
	}
	if left.Clear != right.Clear {
		return left.Clear && !right.Clear
	}
	if left.FireTimestamp != right.FireTimestamp {
		return left.FireTimestamp < right.FireTimestamp
	}
	if left.HoldTimestamp != right.HoldTimestamp {
		return left.HoldTimestamp < right.HoldTimestamp
	}
	return left.Tag < right.Tag
}

type timerHeap []sortableTimer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].less(h[j]) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(sortableTimer)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// headSetIter pops the timers ordered no later than timer, in order.
func (h *timerHeap) headSetIter(timer sortableTimer) func() (sortableTimer, bool) {
	return func() (sortableTimer, bool) {
		if h.Len() > 0 && ((*h)[0].less(timer) || (*h)[0] == timer) {
			return heap.Pop(h).(sortableTimer), true
		}
		return sortableTimer{}, false
	}
}

type timerKey struct{ family, tag string }

type windowKeyPair struct {
	window typex.Window
	key    string
}

type timerModifications struct {
	earlierTimers [3]timerHeap
	modified      map[timerKey]sortableTimer
}

func (tm *timerModifications) insert(t sortableTimer) {
	tm.modified[timerKey{family: t.Family, tag: t.Tag}] = t
	heap.Push(&tm.earlierTimers[t.Domain], t)
}

func (tm *timerModifications) isModified(check sortableTimer) bool {
	got, ok := tm.modified[timerKey{family: check.Family, tag: check.Tag}]
	return ok && got != check
}
