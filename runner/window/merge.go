package window

import (
	"slices"

	"github.com/sluice-runner/sluice/runner/wire"
)

// SessionWindow is the proto-session an element at ts is assigned before
// merging: [ts, ts+gap), capped like every window at the end of time.
func SessionWindow(ts, gap int64) wire.IntervalWindow {
	return wire.IntervalWindow{Start: ts, End: addClamped(ts, gap)}
}

// MergeSessions merges the interval windows of one key the way Beam's
// sessions do (Java's MergeOverlappingIntervalWindows): sorted by start,
// then end, a window joins the running union if the two strictly overlap
// (windows that only touch, [a,b) and [b,c), stay apart); merging is
// transitive through the union. It returns the merged windows in start order
// and, for each input window, the index of the merged window it went into.
// Duplicate input windows are fine. ws is not modified.
func MergeSessions(ws []wire.IntervalWindow) (merged []wire.IntervalWindow, assign []int) {
	if len(ws) == 0 {
		return nil, nil
	}
	order := make([]int, len(ws))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		wa, wb := ws[a], ws[b]
		switch {
		case wa.Start != wb.Start:
			return cmp(wa.Start, wb.Start)
		default:
			return cmp(wa.End, wb.End)
		}
	})
	assign = make([]int, len(ws))
	cur := ws[order[0]]
	for _, i := range order[1:] {
		w := ws[i]
		if cur.Start < w.End && cur.End > w.Start {
			cur.End = max(cur.End, w.End)
		} else {
			merged = append(merged, cur)
			cur = w
		}
		assign[i] = len(merged)
	}
	assign[order[0]] = 0
	merged = append(merged, cur)
	return merged, assign
}

func cmp(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// addClamped adds d to t, saturating at MinTimestamp/MaxTimestamp so that
// windows near the end of time do not wrap around.
func addClamped(t, d int64) int64 {
	s := t + d
	switch {
	case d > 0 && s < t, s > MaxTimestamp:
		return MaxTimestamp
	case d < 0 && s > t, s < MinTimestamp:
		return MinTimestamp
	}
	return s
}
