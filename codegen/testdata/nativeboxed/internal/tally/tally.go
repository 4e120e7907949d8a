// Package tally holds DoFns over a type the generated file cannot name (score, an
// unexported struct): a registered function DoFn making scores and a struct DoFn
// (unexported, with Setup, a context, the event time, an emitter and an error)
// formatting them, which the chain calls through the SDK's callers with any values; and
// unregistered functions of universal values, one picking a key's best score through a
// universal iterator, one emitting a key's count of scores through a universal emitter,
// which it calls typed. beam.DropKey between them passes scores on as they are.
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
	beam.RegisterFunction(countScores)
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

// countScores emits how many scores a key has, as a score of the key.
func countScores(key string, scores func(*beam.T) bool, emit func(beam.T)) {
	var n int64
	var s beam.T
	for scores(&s) {
		n++
	}
	emit(score{Word: key, N: n})
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

// Tally writes the best scoring word of words per first letter, as lines, and makes
// the count of words per first letter (scores of the letters).
func Tally(s beam.Scope, prefix string, words beam.PCollection) (best, counts beam.PCollection) {
	s = s.Scope("Tally")
	grouped := beam.GroupByKey(s, beam.ParDo(s, toScore, words))
	picked := beam.ParDo(s, pickBest, grouped)
	best = beam.ParDo(s, &formatFn{Prefix: prefix}, beam.DropKey(s, picked))
	return best, beam.ParDo(s, countScores, grouped)
}
