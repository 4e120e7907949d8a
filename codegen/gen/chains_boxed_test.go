package gen

import (
	"reflect"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// secret is unexported in a package other than the generated one's: a chain holds it as
// any, and calls what names it in its signature through the SDK's caller.
type secret struct{ S string }

func init() { beam.RegisterType(reflect.TypeOf(secret{})) }

func toSecret(s string) (string, secret) { return s, secret{s} }

func showSecret(x secret, emit func(string)) { emit(x.S) }

func showSecretSide(x secret, side func(*string) bool, emit func(string)) { emit(x.S) }

func emitSecret(s string, emit func(secret)) { emit(secret{s}) }

func firstSecret(k string, it func(*secret) bool) string { return k }

func anyKey(k string, it func(*beam.T) bool) (string, beam.T) {
	var v beam.T
	it(&v)
	return k, v
}

func TestBoxedCoverage(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(s beam.Scope, lines beam.PCollection)
		why   []string // per SDK stage, as in TestChainCoverage
	}{
		{"boxed ParDos, an intrinsic, a grouping and a universal iterator", func(s beam.Scope, l beam.PCollection) {
			kv := beam.ParDo(s, toSecret, l)
			beam.ParDo0(s, sinkString, beam.ParDo(s, showSecret, beam.DropKey(s, kv)))
			picked := beam.ParDo(s, anyKey, beam.GroupByKey(s, kv))
			beam.ParDo0(s, sinkString, beam.ParDo(s, showSecret, beam.DropKey(s, picked)))
		}, []string{"", ""}},
		{"a boxed ParDo with a side input", func(s beam.Scope, l beam.PCollection) {
			kv := beam.ParDo(s, toSecret, l)
			beam.ParDo0(s, sinkString, beam.ParDo(s, showSecretSide, beam.DropKey(s, kv), beam.SideInput{Input: l}))
		}, []string{"", "side inputs of a DoFn over values the generated package cannot name"}},
		{"an emitter of held values", func(s beam.Scope, l beam.PCollection) {
			beam.ParDo0(s, sinkString, beam.ParDo(s, showSecret, beam.ParDo(s, emitSecret, l)))
		}, []string{"Emit parameter func(github.com/sluice-runner/sluice/codegen/gen.secret)"}},
		{"an iterator of held values", func(s beam.Scope, l beam.PCollection) {
			beam.ParDo0(s, sinkString, beam.ParDo(s, firstSecret, beam.GroupByKey(s, beam.ParDo(s, toSecret, l))))
		}, []string{"", "Iter parameter func(*github.com/sluice-runner/sluice/codegen/gen.secret) bool"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sdk := stages(t, c.build)
			if len(sdk) != len(c.why) {
				for _, st := range sdk {
					t.Logf("stage %s native %v why %q", st.ID, st.Native, st.Why)
				}
				t.Fatalf("%d SDK stages, want %d", len(sdk), len(c.why))
			}
			for i, st := range sdk {
				switch want := c.why[i]; {
				case want == "" && !st.Native:
					t.Errorf("stage %s is not native: %s", st.ID, st.Why)
				case want != "" && (st.Native || !strings.Contains(st.Why, want)):
					t.Errorf("stage %s: native %v, why %q; want not native because %q", st.ID, st.Native, st.Why, want)
				}
			}
		})
	}
}
