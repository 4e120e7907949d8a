package gen

import (
	"strconv"

	"github.com/dave/jennifer/jen"
)

// An intrinsic is a function of the Beam Go SDK that the generated code does not call but
// writes out, typed: its body only rearranges its arguments and constants. Such functions
// take and return universal types (beam.T, beam.X), so a call would box every element into
// an interface and check its type on the way out; stats.Count's keyedCountFn and
// textio.Write's addFixedKeyFn run on every element of the pipelines that use them.
type intrinsic struct {
	// sig is the function's type as the capture records it: a capture of another SDK
	// version whose function changed type is called, not written out.
	sig string
	// outs are the values it returns: "vN" is its N-th argument, anything else an int
	// constant.
	outs []string
}

const beamPath = "github.com/apache/beam/sdks/v2/go/pkg/beam"

// The universal types in the intrinsics' types, as the capture writes them.
const (
	tT = typexPath + ".T"
	tX = typexPath + ".X"
	tY = typexPath + ".Y"
)

// intrinsics are the SDK functions written out, by symbol name.
var intrinsics = map[string]intrinsic{
	beamPath + "/transforms/stats.keyedCountFn": {sig: "func(" + tT + ") (" + tT + ", int)", outs: []string{"v0", "1"}},
	beamPath + "/transforms/filter.mapFn":       {sig: "func(" + tT + ") (" + tT + ", int)", outs: []string{"v0", "1"}},
	beamPath + ".addFixedKeyFn":                 {sig: "func(" + tT + ") (int, " + tT + ")", outs: []string{"0", "v0"}},
	beamPath + ".dropKeyFn":                     {sig: "func(" + tX + ", " + tY + ") " + tY, outs: []string{"v1"}},
	beamPath + ".dropValueFn":                   {sig: "func(" + tX + ", " + tY + ") " + tX, outs: []string{"v0"}},
	beamPath + ".swapKVFn":                      {sig: "func(" + tX + ", " + tY + ") (" + tY + ", " + tX + ")", outs: []string{"v1", "v0"}},
}

// intrinsicFor is the intrinsic a checked ParDo step is, or nil: a function the table
// names, of the type it records, taking its input's values and returning one output whose
// parts have the types of what it returns.
func intrinsicFor(st *step) *intrinsic {
	in, ok := intrinsics[st.fn]
	if !ok || st.kind != stepParDo || st.recv != nil || st.fnType == nil || st.fnType.str != in.sig || len(st.outs) != 1 {
		return nil
	}
	for _, p := range st.params {
		if p.kind != "Value" {
			return nil
		}
	}
	if len(st.params) != len(st.in.parts) || len(st.results) != len(in.outs) || len(st.outs[0].parts) != len(in.outs) {
		return nil
	}
	for i, o := range in.outs {
		want := valueTypeString(st.outs[0].parts[i])
		if n, isArg := argIndex(o); isArg {
			if n >= len(st.in.parts) || valueTypeString(st.in.parts[n]) != want {
				return nil
			}
		} else if want != "int" {
			return nil
		}
	}
	return &in
}

// argIndex says whether out is an argument, and which.
func argIndex(out string) (int, bool) {
	if len(out) < 2 || out[0] != 'v' {
		return 0, false
	}
	n, err := strconv.Atoi(out[1:])
	return n, err == nil
}

// values are the intrinsic's results, from the step's arguments v0, v1, ...
func (in *intrinsic) values() []jen.Code {
	vs := make([]jen.Code, len(in.outs))
	for i, o := range in.outs {
		if _, isArg := argIndex(o); isArg {
			vs[i] = jen.Id(o)
		} else {
			n, _ := strconv.Atoi(o)
			vs[i] = jen.Lit(n)
		}
	}
	return vs
}
