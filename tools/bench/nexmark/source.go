package nexmark

import (
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.DoFn3x0[*sdf.LockRTracker, Source, func(beam.EventTime, Event)](&generateFn{})
	register.Emitter2[beam.EventTime, Event]()
}

// Source is the element the generating DoFn expands into events [0, NumEvents).
type Source struct {
	NumEvents int64
	// InitialSplits is how many restrictions SplitRestriction makes of the whole range.
	InitialSplits int64
}

// DefaultInitialSplits is the number of initial pieces of the event range.
const DefaultInitialSplits = 4

// Read generates events 0 … n-1 of cfg, each with its event time as element timestamp, in
// the global window: a bounded source, a splittable DoFn over the range of event numbers.
func Read(s beam.Scope, cfg Config, n int64) beam.PCollection {
	s = s.Scope("nexmark.Read")
	src := beam.Create(s, Source{NumEvents: n, InitialSplits: DefaultInitialSplits})
	return beam.ParDo(s, &generateFn{Config: cfg}, src)
}

// generateFn is the splittable DoFn of Read. Its restriction is an offset range of event
// numbers.
type generateFn struct {
	Config Config
	gen    *Generator
}

func (fn *generateFn) CreateInitialRestriction(src Source) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: src.NumEvents}
}

func (fn *generateFn) SplitRestriction(src Source, rest offsetrange.Restriction) []offsetrange.Restriction {
	return rest.EvenSplits(max(src.InitialSplits, 1))
}

func (fn *generateFn) RestrictionSize(_ Source, rest offsetrange.Restriction) float64 {
	return rest.Size()
}

func (fn *generateFn) CreateTracker(rest offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(rest))
}

func (fn *generateFn) Setup() {
	fn.gen = NewGenerator(fn.Config)
}

func (fn *generateFn) ProcessElement(rt *sdf.LockRTracker, _ Source, emit func(beam.EventTime, Event)) {
	for n := rt.GetRestriction().(offsetrange.Restriction).Start; rt.TryClaim(n); n++ {
		e, ts := fn.gen.Event(n)
		emit(beam.EventTime(ts), e)
	}
}
