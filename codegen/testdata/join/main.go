// Command join is a sluicegen test pipeline: customers and orders joined by customer id
// with CoGroupByKey, keeping customers whose orders total at least --min-total. The flag
// is required, as a pipeline's flags often are: capture has to pass it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var minTotal = flag.Int("min-total", -1, "smallest order total to report (required)")

func parseCustomer(line string) (int, string) {
	id, name, _ := strings.Cut(line, ",")
	n, _ := strconv.Atoi(id)
	return n, name
}

func parseOrder(line string) (int, int) {
	id, amount, _ := strings.Cut(line, ",")
	n, _ := strconv.Atoi(id)
	a, _ := strconv.Atoi(amount)
	return n, a
}

// totalFn sums each customer's orders and emits the customers at or above MinTotal.
type totalFn struct{ MinTotal int }

func (f *totalFn) ProcessElement(id int, names func(*string) bool, amounts func(*int) bool, emit func(string, int)) {
	total, a := 0, 0
	for amounts(&a) {
		total += a
	}
	if total < f.MinTotal {
		return
	}
	var name string
	for names(&name) {
		emit(name, total)
	}
}

func discard(string, int) {}

func init() {
	register.Function1x2(parseCustomer)
	register.Function1x2(parseOrder)
	register.DoFn4x0[int, func(*string) bool, func(*int) bool, func(string, int)](&totalFn{})
	register.Function2x0(discard)
	register.Iter1[string]()
	register.Iter1[int]()
	register.Emitter2[string, int]()
}

func main() {
	flag.Parse()
	beam.Init()
	if *minTotal < 0 {
		fmt.Fprintln(os.Stderr, "join: --min-total is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	customers := beam.ParDo(s, parseCustomer, beam.Create(s, "1,ann", "2,bob"))
	orders := beam.ParDo(s, parseOrder, beam.Create(s, "1,30", "1,12", "2,5"))
	joined := beam.CoGroupByKey(s.Scope("Join"), customers, orders)
	totals := beam.ParDo(s.Scope("Total"), &totalFn{MinTotal: *minTotal}, joined)
	beam.ParDo0(s.Scope("Discard"), discard, totals)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "join:", err)
		os.Exit(1)
	}
}
