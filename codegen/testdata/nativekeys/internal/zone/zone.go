// Package zone keys values by a struct the generated file cannot name (an unexported
// type, coded by the SDK's row coder): the chain holds such keys as any and tells them
// apart by their encoding, as the SDK does.
package zone

import (
	"fmt"
	"math"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	beam.RegisterType(reflect.TypeOf(zone{}))
	register.Function1x2(Of)
	register.Function2x1(Format)
}

// zone is a band of values; Sign keeps -0 apart from +0, as the row coder does.
type zone struct {
	Band int
	Sign bool
}

// Of keys v by its zone (NaNs in band -1).
func Of(v float64) (zone, int) {
	if math.IsNaN(v) {
		return zone{Band: -1}, 1
	}
	return zone{Band: int(math.Abs(v)), Sign: math.Signbit(v)}, 1
}

// Format prints a zone's count.
func Format(z zone, n int) string { return fmt.Sprintf("zone %d %v: %d", z.Band, z.Sign, n) }
