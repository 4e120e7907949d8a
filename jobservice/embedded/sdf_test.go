package embedded

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
)

// resumingFn emits the offsets of [0, 30) ten at a time, asking to be resumed after each
// ten: the runner must hold the residual and process it again after the delay.
type resumingFn struct{}

func (fn *resumingFn) CreateInitialRestriction(_ []byte) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: 30}
}

func (fn *resumingFn) CreateTracker(rest offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(rest))
}

func (fn *resumingFn) RestrictionSize(_ []byte, rest offsetrange.Restriction) float64 {
	return rest.Size()
}

func (fn *resumingFn) SplitRestriction(_ []byte, rest offsetrange.Restriction) []offsetrange.Restriction {
	return []offsetrange.Restriction{rest}
}

func (fn *resumingFn) ProcessElement(rt *sdf.LockRTracker, _ []byte, emit func(int64)) sdf.ProcessContinuation {
	pos := rt.GetRestriction().(offsetrange.Restriction).Start
	for i := 0; i < 10; i++ {
		if !rt.TryClaim(pos) {
			return sdf.StopProcessing()
		}
		emit(pos)
		pos++
	}
	return sdf.ResumeProcessingIn(20 * time.Millisecond)
}

func init() {
	register.DoFn3x1[*sdf.LockRTracker, []byte, func(int64), sdf.ProcessContinuation](&resumingFn{})
	register.Emitter1[int64]()
}

func TestSplittableDoFnResumesAfterSelfCheckpoint(t *testing.T) {
	srv := startServer(t)
	p, s := beam.NewPipelineWithRoot()
	offsets := beam.ParDo(s, &resumingFn{}, beam.Impulse(s))
	passert.Count(s, offsets, "offsets", 30)
	passert.Equals(s, stats.Sum(s, offsets), int64(29*30/2))
	if _, err := execute(t, srv, p); err != nil {
		t.Fatalf("pipeline failed: %v", err)
	}
}

// rangeFn emits every offset of one restriction [0, n), slowly enough that the runner
// splits it while it runs. Every ProcessElement that starts past 0 counts in
// resumedFrom: with a single initial restriction and no self-checkpoint, only a
// runner-initiated split makes one.
type rangeFn struct{ N int64 }

var resumedFrom atomic.Int64

func (fn *rangeFn) CreateInitialRestriction(_ []byte) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: fn.N}
}

func (fn *rangeFn) CreateTracker(rest offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(rest))
}

func (fn *rangeFn) RestrictionSize(_ []byte, rest offsetrange.Restriction) float64 {
	return rest.Size()
}

func (fn *rangeFn) SplitRestriction(_ []byte, rest offsetrange.Restriction) []offsetrange.Restriction {
	return []offsetrange.Restriction{rest}
}

func (fn *rangeFn) ProcessElement(rt *sdf.LockRTracker, _ []byte, emit func(int64)) {
	start := rt.GetRestriction().(offsetrange.Restriction).Start
	if start > 0 {
		resumedFrom.Add(1)
	}
	for pos := start; rt.TryClaim(pos); pos++ {
		if pos%500 == 0 {
			time.Sleep(time.Millisecond)
		}
		emit(pos)
	}
}

// seenTwice emits the offsets that occur more than once.
func seenTwice(offset int64, n int, emit func(int64)) {
	if n != 1 {
		emit(offset)
	}
}

func init() {
	register.DoFn3x0[*sdf.LockRTracker, []byte, func(int64)](&rangeFn{})
	register.Function3x0(seenTwice)
}

func TestRunnerSplitsALongRestrictionAcrossSubtasks(t *testing.T) {
	srv := startServer(t) // parallelism 2: the second subtask has nothing until a split
	resumedFrom.Store(0)
	const n = 100_000
	p, s := beam.NewPipelineWithRoot()
	offsets := beam.ParDo(s, &rangeFn{N: n}, beam.Impulse(s))
	passert.Count(s, offsets, "offsets", n)
	passert.Equals(s, stats.Sum(s, offsets), int64(n*(n-1)/2))
	passert.Empty(s, beam.ParDo(s, seenTwice, stats.Count(s, offsets)))
	if _, err := execute(t, srv, p); err != nil {
		t.Fatalf("pipeline failed: %v", err)
	}
	if resumedFrom.Load() == 0 {
		t.Error("the restriction was never split: one subtask read all of it")
	}
}
