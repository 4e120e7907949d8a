package window

import (
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/sluice-runner/sluice/runner/wire"
)

// OutputTimestamp is the timestamp of a pane grouped into window w from
// elements with the given timestamps, per the strategy's TimestampCombiner:
// END_OF_WINDOW (also the default when unspecified) gives w's max
// timestamp, EARLIEST_IN_PANE the minimum element timestamp and
// LATEST_IN_PANE the maximum. With no timestamps it falls back to w's max
// timestamp.
func OutputTimestamp(s Strategy, w wire.Window, elementTimestamps ...int64) int64 {
	if len(elementTimestamps) == 0 {
		return w.MaxTimestamp()
	}
	acc := elementTimestamps[0]
	for _, ts := range elementTimestamps[1:] {
		acc = CombineOutputTime(s.OutputTime, acc, ts)
	}
	switch s.OutputTime {
	case pipepb.OutputTime_EARLIEST_IN_PANE, pipepb.OutputTime_LATEST_IN_PANE:
		return acc
	default:
		return w.MaxTimestamp()
	}
}

// CombineOutputTime folds one more element timestamp into a running
// output timestamp, so a GroupByKey buffer can track it without keeping
// every timestamp. For END_OF_WINDOW the running value is irrelevant (the
// pane uses the window's max timestamp) and acc is returned unchanged.
func CombineOutputTime(mode pipepb.OutputTime_Enum, acc, ts int64) int64 {
	switch mode {
	case pipepb.OutputTime_EARLIEST_IN_PANE:
		return min(acc, ts)
	case pipepb.OutputTime_LATEST_IN_PANE:
		return max(acc, ts)
	default:
		return acc
	}
}

// GarbageCollectionTime is the event time after which w's state can be
// dropped: its max timestamp plus the allowed lateness, but never past the
// global window's max timestamp (as Beam's LateDataUtils computes it).
func GarbageCollectionTime(s Strategy, w wire.Window) int64 {
	maxTS := w.MaxTimestamp()
	if maxTS > EndOfGlobalWindowTime-s.AllowedLateness {
		return EndOfGlobalWindowTime
	}
	return maxTS + s.AllowedLateness
}

// Expired reports whether, at input watermark wm, window w is past its
// garbage collection time: its state can be cleared and later data for it
// dropped.
func Expired(s Strategy, w wire.Window, wm int64) bool {
	return wm > GarbageCollectionTime(s, w)
}

// AssignWindows appends the windows an element at ts belongs to under s.
// The SDK normally assigns windows (WindowInto runs there); the runner
// needs this for elements it creates itself, such as TestStream output.
// Sessions yield the unmerged proto-session. Custom window fns are an
// error: only the SDK knows them.
func AssignWindows(dst []wire.Window, s Strategy, ts int64) ([]wire.Window, error) {
	switch s.Kind {
	case KindGlobal:
		return append(dst, wire.GlobalWindow{}), nil
	case KindFixed:
		start := ts - floorMod(ts-s.Offset, s.Size)
		// The last window is cut at the end of the global window, as the
		// SDKs do, so its max timestamp stays representable.
		end := min(addClamped(start, s.Size), EndOfGlobalWindowTime+1)
		return append(dst, wire.IntervalWindow{Start: start, End: end}), nil
	case KindSliding:
		// Latest window first, like the SDKs.
		last := ts - floorMod(ts-s.Offset, s.Period)
		for start := last; start > ts-s.Size; start -= s.Period {
			dst = append(dst, wire.IntervalWindow{Start: start, End: addClamped(start, s.Size)})
		}
		return dst, nil
	case KindSessions:
		return append(dst, SessionWindow(ts, s.SessionGap)), nil
	default:
		return dst, fmt.Errorf("window fn %s: the runner cannot assign custom windows", s.WindowFnURN)
	}
}

// floorMod is the non-negative remainder of a / m, m > 0, so windows of
// negative timestamps start at or before them.
func floorMod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}
