package gen

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/filter" // registers mapFn
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"  // registers keyedCountFn
)

// TestIntrinsicsMatchTheSDK calls each SDK function the generated code writes out and
// checks that it returns what its intrinsic says, so that a Beam upgrade that changes one
// fails here rather than in a pipeline.
func TestIntrinsicsMatchTheSDK(t *testing.T) {
	args := []any{"first", int64(42)}
	for name, in := range intrinsics {
		t.Run(name, func(t *testing.T) {
			ft, err := parseType(in.sig)
			if err != nil {
				t.Fatalf("parsing %s: %v", in.sig, err)
			}
			fn, err := runtime.ResolveFunction(name, funcType(t, ft))
			if err != nil {
				t.Fatalf("resolving: %v", err)
			}
			var call []reflect.Value
			for i := range ft.params {
				call = append(call, reflect.ValueOf(args[i]))
			}
			got := reflect.ValueOf(fn).Call(call)
			if len(got) != len(in.outs) {
				t.Fatalf("%d results, the intrinsic has %d", len(got), len(in.outs))
			}
			for i, o := range in.outs {
				var want any
				if n, isArg := argIndex(o); isArg {
					want = args[n]
				} else if want, err = strconv.Atoi(o); err != nil {
					t.Fatal(err)
				}
				if g := got[i].Interface(); g != want {
					t.Errorf("result %d = %v (%T), intrinsic says %v (%T)", i, g, g, want, want)
				}
			}
		})
	}
}

// funcType is the reflect type of an intrinsic's signature (universal types and int only).
func funcType(t *testing.T, ft *goTyp) reflect.Type {
	conv := func(g *goTyp) reflect.Type {
		switch g.str {
		case "int":
			return reflect.TypeFor[int]()
		case tT:
			return typex.TType
		case tX:
			return typex.XType
		case tY:
			return typex.YType
		}
		t.Fatalf("type %s in an intrinsic's signature", g.str)
		return nil
	}
	var in, out []reflect.Type
	for _, p := range ft.params {
		in = append(in, conv(p))
	}
	for _, r := range ft.results {
		out = append(out, conv(r))
	}
	return reflect.FuncOf(in, out, false)
}
