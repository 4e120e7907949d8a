// Command windowed_side_input looks up exchange rates for payments through a windowed
// map side input: payments are in one-minute fixed windows, rates in two-minute fixed
// windows, and each payment sees the rates of the side window its own window maps to
// (the side input window that contains the end of the payment's window).
//
// Output, one line per payment: "CURRENCY AMOUNT [START,END) rates=R1,R2|none", the
// payment's window and the rates visible to it, sorted.
// It is one of the `make modelcheck` pipelines (tools/modelcheck).
//
//	go run ./testdata/modelcheck/windowed_side_input --output=/tmp/out.txt \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var output = flag.String("output", "", "file to write the result lines to (required)")

// base is the event time that the records' offsets count from.
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// payment is a main input record: Amount in Currency, Second seconds after base.
type payment struct {
	Currency string
	Second   int
	Amount   int
}

// rate is a side input record: Currency was worth Rate, Second seconds after base.
type rate struct {
	Currency string
	Second   int
	Rate     int
}

func init() {
	register.Function2x0(stampPayment)
	register.Function2x0(stampRate)
	register.Emitter3[beam.EventTime, string, int]()
	register.Function5x0(lookUpRates)
	register.Emitter1[string]()
	register.Iter1[int]()
}

func at(sec int) beam.EventTime { return mtime.FromTime(base.Add(time.Duration(sec) * time.Second)) }

// stampPayment gives a payment its event time and keys it by currency.
func stampPayment(p payment, emit func(beam.EventTime, string, int)) {
	emit(at(p.Second), p.Currency, p.Amount)
}

// stampRate gives a rate its event time and keys it by currency.
func stampRate(r rate, emit func(beam.EventTime, string, int)) {
	emit(at(r.Second), r.Currency, r.Rate)
}

// lookUpRates renders a payment with the rates of its currency in the side input.
func lookUpRates(w beam.Window, currency string, amount int, rates func(string) func(*int) bool, emit func(string)) {
	var rs []int
	iter := rates(currency)
	var r int
	for iter(&r) {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	strs := make([]string, len(rs))
	for i, r := range rs {
		strs[i] = strconv.Itoa(r)
	}
	list := strings.Join(strs, ",")
	if list == "" {
		list = "none"
	}
	emit(fmt.Sprintf("%s %d %s rates=%s", currency, amount, formatWindow(w), list))
}

// formatWindow renders an interval window as [HH:MM:SS,HH:MM:SS) in UTC.
func formatWindow(w beam.Window) string {
	iw, ok := w.(window.IntervalWindow)
	if !ok {
		return fmt.Sprint(w)
	}
	clock := func(t beam.EventTime) string { return t.ToTime().UTC().Format("15:04:05") }
	return fmt.Sprintf("[%s,%s)", clock(iw.Start), clock(iw.End))
}

func main() {
	flag.Parse()
	beam.Init()
	if *output == "" {
		fmt.Fprintln(os.Stderr, "windowed_side_input: --output is required")
		os.Exit(2)
	}
	p, s := beam.NewPipelineWithRoot()
	payments := beam.Create(s.Scope("Payments"),
		payment{"EUR", 10, 10}, payment{"GBP", 90, 5}, payment{"EUR", 125, 1},
		payment{"GBP", 200, 7}, payment{"EUR", 239, 3},
	)
	rates := beam.Create(s.Scope("Rates"),
		rate{"EUR", 5, 2}, rate{"GBP", 70, 3}, rate{"EUR", 150, 4}, rate{"EUR", 180, 5},
		rate{"GBP", 250, 9},
	)
	mainIn := beam.WindowInto(s, window.NewFixedWindows(time.Minute), beam.ParDo(s, stampPayment, payments))
	sideIn := beam.WindowInto(s, window.NewFixedWindows(2*time.Minute), beam.ParDo(s, stampRate, rates))
	lines := beam.ParDo(s, lookUpRates, mainIn, beam.SideInput{Input: sideIn})
	textio.Write(s, *output, beam.WindowInto(s, window.NewGlobalWindows(), lines))
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "windowed_side_input: pipeline failed: %v\n", err)
		os.Exit(1)
	}
}
