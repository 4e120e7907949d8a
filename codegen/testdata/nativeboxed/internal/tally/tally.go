// Package tally holds DoFns over a type the generated file cannot name (score, an
// unexported struct): a registered function DoFn making scores, an unregistered one
// picking a key's best from grouped scores through a universal iterator, and a struct
// DoFn (unexported, with Setup, a context, the event time, an emitter and an error)
// formatting them. The chain holds scores as any and calls these through the SDK's
// callers; beam.DropKey between them passes them on as they are.
package tally

import (
	"context"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.Function1x2(toScore)
	beam.RegisterFunction(pickBest)
	beam.RegisterType(reflect.TypeOf((*formatFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf(score{}))
}

// score is a word's score: coded by the SDK's coder (a row) on the stages' ports.
type score struct {
	Word string
	N    int64
}

// toScore keys a word by its first letter and scores it by its length.
func toScore(w string) (string, score) {
	return w[:1], score{Word: w, N: int64(len(w))}
}

// pickBest is the best score of a key: the highest, the first word on a tie.
func pickBest(key string, scores func(*beam.T) bool) (string, beam.T) {
	var best score
	var s beam.T
	for scores(&s) {
		sc := s.(score)
		if sc.N > best.N || sc.N == best.N && (best.Word == "" || sc.Word < best.Word) {
			best = sc
		}
	}
	return key, best
}

// formatFn writes a score as a line, under its prefix.
type formatFn struct {
	Prefix string

	ready bool // set by Setup: not configuration
}

func (f *formatFn) Setup(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("Setup without a context")
	}
	f.ready = true
	return nil
}

func (f *formatFn) ProcessElement(ctx context.Context, et beam.EventTime, s score, emit func(string)) error {
	if !f.ready || ctx == nil {
		return fmt.Errorf("formatFn is not set up")
	}
	if s.N == 0 {
		return fmt.Errorf("an empty score for %q", s.Word)
	}
	emit(fmt.Sprintf("%s%s %d (at %d)", f.Prefix, s.Word, s.N, et.Milliseconds()))
	return nil
}

// Best writes the best scoring word of words per first letter, as lines.
func Best(s beam.Scope, prefix string, words beam.PCollection) beam.PCollection {
	s = s.Scope("Best")
	scores := beam.ParDo(s, toScore, words)
	best := beam.ParDo(s, pickBest, beam.GroupByKey(s, scores))
	return beam.ParDo(s, &formatFn{Prefix: prefix}, beam.DropKey(s, best))
}
