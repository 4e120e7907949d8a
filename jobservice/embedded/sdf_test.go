package embedded

import (
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
