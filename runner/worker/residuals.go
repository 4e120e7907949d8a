package worker

import (
	"math"
	"sort"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
)

// residualQueue holds the work a splittable DoFn handed back at the end of a bundle (a
// self-checkpoint): each residual is an element of the stage's input, to be processed
// again once its requested delay has passed. Until then it holds the watermark at the
// output watermark the SDK reported for it.
type residualQueue struct {
	items []residual
}

type residual struct {
	due  time.Time
	elem []byte
	hold int64
}

func (q *residualQueue) add(r *fnpb.DelayedBundleApplication, now time.Time) {
	hold := int64(math.MaxInt64)
	for _, ts := range r.GetApplication().GetOutputWatermarks() {
		hold = min(hold, ts.AsTime().UnixMilli())
	}
	if len(r.GetApplication().GetOutputWatermarks()) == 0 {
		hold = math.MinInt64 // nothing reported: hold everything back
	}
	q.items = append(q.items, residual{due: now.Add(r.GetRequestedTimeDelay().AsDuration()), elem: r.GetApplication().GetElement(), hold: hold})
	sort.SliceStable(q.items, func(i, j int) bool { return q.items[i].due.Before(q.items[j].due) })
}

func (q *residualQueue) empty() bool { return len(q.items) == 0 }

// next is when the earliest residual is due.
func (q *residualQueue) next() (time.Time, bool) {
	if len(q.items) == 0 {
		return time.Time{}, false
	}
	return q.items[0].due, true
}

// takeDue removes and returns the elements of the residuals due at now.
func (q *residualQueue) takeDue(now time.Time) [][]byte {
	n := 0
	for n < len(q.items) && !q.items[n].due.After(now) {
		n++
	}
	if n == 0 {
		return nil
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = q.items[i].elem
	}
	q.items = q.items[n:]
	return out
}

// hold is the watermark the pending residuals allow downstream.
func (q *residualQueue) hold() int64 {
	h := int64(math.MaxInt64)
	for _, r := range q.items {
		h = min(h, r.hold)
	}
	return h
}
