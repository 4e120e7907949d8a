package nexmark

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// Queries lists the queries Query can build.
var Queries = []int{0, 1, 2, 3, 4, 5, 7, 8}

// Query adds query q over events (a PCollection<Event>, as made by Read) to the pipeline
// and returns its result lines (PCollection<string>, in the global window), one per
// result record, formatted as the package comment describes.
func Query(s beam.Scope, q int, cfg Config, events beam.PCollection) (beam.PCollection, error) {
	s = s.Scope(fmt.Sprintf("nexmark.Query%d", q))
	var out beam.PCollection
	switch q {
	case 0:
		out = beam.ParDo(s, formatEvent, beam.ParDo(s, &roundTripFn{}, events))
	case 1:
		out = beam.ParDo(s, formatBid, beam.ParDo(s, toEuros, justBids(s, events)))
	case 2:
		out = beam.ParDo(s, &auctionSkipFn{Skip: cfg.AuctionSkip}, justBids(s, events))
	case 3:
		out = query3(s, events)
	case 4:
		out = query4(s, events)
	case 5:
		out = query5(s, cfg, events)
	case 7:
		out = query7(s, cfg, events)
	case 8:
		out = query8(s, cfg, events)
	default:
		return beam.PCollection{}, fmt.Errorf("nexmark: no query %d (have %v)", q, Queries)
	}
	return out, nil
}

// toGlobal re-windows a windowed query's results into the global window, where
// textio.Write and the comparison with other runners expect them.
func toGlobal(s beam.Scope, col beam.PCollection) beam.PCollection {
	return beam.WindowInto(s.Scope("GlobalWindow"), window.NewGlobalWindows(), col)
}

func init() {
	register.DoFn2x1[Event, func(Event), error](&roundTripFn{})
	register.Function1x1(formatEvent)
	register.Function1x1(formatBid)
	register.Function1x1(toEuros)
	register.DoFn2x0[Bid, func(string)](&auctionSkipFn{})
	register.Function2x0(justBidsFn)
	register.Function2x0(justPersonsFn)
	register.Function2x0(justAuctionsFn)
	register.Emitter1[Event]()
	register.Emitter1[Bid]()
	register.Emitter1[Person]()
	register.Emitter1[Auction]()
	register.Emitter1[string]()
}

// roundTripFn passes events through unchanged, but through the row coder and back, as
// Beam's Query0 makes them do a round trip through their coder.
type roundTripFn struct {
	enc func(any, io.Writer) error
	dec func(io.Reader) (any, error)
	buf bytes.Buffer
}

func (fn *roundTripFn) Setup() error {
	t := reflect.TypeOf(Event{})
	var err error
	if fn.enc, err = coder.RowEncoderForStruct(t); err != nil {
		return err
	}
	fn.dec, err = coder.RowDecoderForStruct(t)
	return err
}

func (fn *roundTripFn) ProcessElement(e Event, emit func(Event)) error {
	fn.buf.Reset()
	if err := fn.enc(e, &fn.buf); err != nil {
		return fmt.Errorf("nexmark: encode event: %w", err)
	}
	v, err := fn.dec(&fn.buf)
	if err != nil {
		return fmt.Errorf("nexmark: decode event: %w", err)
	}
	emit(v.(Event))
	return nil
}

func formatEvent(e Event) string { return FormatEvent(e) }
func formatBid(b Bid) string     { return FormatBid(b) }

// toEuros is query 1: the bid with its price converted from dollars to euros.
func toEuros(b Bid) Bid {
	b.Price = b.Price * 89 / 100
	return b
}

// auctionSkipFn is query 2: the auction and price of the bids on every Skip-th auction.
type auctionSkipFn struct{ Skip int64 }

func (fn *auctionSkipFn) ProcessElement(b Bid, emit func(string)) {
	if b.Auction%fn.Skip == 0 {
		emit(formatQ2(b.Auction, b.Price))
	}
}

func justBidsFn(e Event, emit func(Bid)) {
	if e.Bid != nil {
		emit(*e.Bid)
	}
}

func justPersonsFn(e Event, emit func(Person)) {
	if e.NewPerson != nil {
		emit(*e.NewPerson)
	}
}

func justAuctionsFn(e Event, emit func(Auction)) {
	if e.NewAuction != nil {
		emit(*e.NewAuction)
	}
}

func justBids(s beam.Scope, events beam.PCollection) beam.PCollection {
	return beam.ParDo(s.Scope("JustBids"), justBidsFn, events)
}

func justPersons(s beam.Scope, events beam.PCollection) beam.PCollection {
	return beam.ParDo(s.Scope("JustPersons"), justPersonsFn, events)
}

func justAuctions(s beam.Scope, events beam.PCollection) beam.PCollection {
	return beam.ParDo(s.Scope("JustAuctions"), justAuctionsFn, events)
}

func init() {
	register.Function2x0(q3PersonsFn)
	register.Function2x0(q3AuctionsFn)
	register.Function4x0(q3JoinFn)
	register.Function1x2(personByID)
	register.Function1x2(auctionBySeller)
	register.Function1x2(auctionByID)
	register.Function1x2(bidByAuction)
	register.Emitter2[int64, Person]()
	register.Emitter2[int64, Auction]()
	register.Emitter2[int64, int64]()
	register.Iter1[Person]()
	register.Iter1[Auction]()
	register.Iter1[Bid]()
}

func personByID(p Person) (int64, Person)        { return p.ID, p }
func auctionBySeller(a Auction) (int64, Auction) { return a.Seller, a }
func auctionByID(a Auction) (int64, Auction)     { return a.ID, a }
func bidByAuction(b Bid) (int64, Bid)            { return b.Auction, b }

// q3PersonsFn keeps the people in OR, ID and CA, keyed by id.
func q3PersonsFn(e Event, emit func(int64, Person)) {
	if p := e.NewPerson; p != nil && (p.State == "OR" || p.State == "ID" || p.State == "CA") {
		emit(p.ID, *p)
	}
}

// q3AuctionsFn keeps the auctions in category 10, keyed by seller.
func q3AuctionsFn(e Event, emit func(int64, Auction)) {
	if a := e.NewAuction; a != nil && a.Category == queryCategory3 {
		emit(a.Seller, *a)
	}
}

// q3JoinFn emits name, city, state and auction id for every auction of a selected person.
func q3JoinFn(_ int64, persons func(*Person) bool, auctions func(*Auction) bool, emit func(string)) {
	var p Person
	if !persons(&p) {
		return
	}
	var a Auction
	for auctions(&a) {
		emit(formatQ3(&p, a.ID))
	}
}

// query3 is 'local item suggestion': who sells in category 10 from OR, ID or CA, and
// which auctions. Beam's Query3 joins with a stateful DoFn and timers; here a
// CoGroupByKey in the global window joins them (see the package comment).
func query3(s beam.Scope, events beam.PCollection) beam.PCollection {
	persons := beam.ParDo(s.Scope("PersonsInState"), q3PersonsFn, events)
	auctions := beam.ParDo(s.Scope("AuctionsInCategory"), q3AuctionsFn, events)
	joined := beam.CoGroupByKey(s.Scope("Join"), persons, auctions)
	return beam.ParDo(s.Scope("Project"), q3JoinFn, joined)
}

func init() {
	register.Function4x0(winningBidFn)
	register.Combiner3[meanAccum, int64, int64](&meanFn{})
	register.Function2x1(formatQ4Fn)
}

// winningBidFn emits (category, price) of the auction's winning bid: the highest bid at or
// above the reserve made while the auction was open, if any.
func winningBidFn(_ int64, auctions func(*Auction) bool, bids func(*Bid) bool, emit func(int64, int64)) {
	var a Auction
	if !auctions(&a) {
		return // bids on an auction not in the input
	}
	best, found := int64(0), false
	var b Bid
	for bids(&b) {
		if b.Price >= a.Reserve && b.DateTime >= a.DateTime && b.DateTime < a.Expires && (!found || b.Price > best) {
			best, found = b.Price, true
		}
	}
	if found {
		emit(a.Category, best)
	}
}

// meanAccum is the sum and count of meanFn; an integer sum keeps the mean exact and
// independent of the order in which a runner combines.
type meanAccum struct{ Sum, Count int64 }

// meanFn is the rounded mean of int64 values.
type meanFn struct{}

func (meanFn) CreateAccumulator() meanAccum { return meanAccum{} }
func (meanFn) AddInput(a meanAccum, v int64) meanAccum {
	return meanAccum{a.Sum + v, a.Count + 1}
}
func (meanFn) MergeAccumulators(a, b meanAccum) meanAccum {
	return meanAccum{a.Sum + b.Sum, a.Count + b.Count}
}
func (meanFn) ExtractOutput(a meanAccum) int64 { return roundedMean(a.Sum, a.Count) }

func roundedMean(sum, count int64) int64 {
	if count == 0 {
		return 0
	}
	return int64(math.Round(float64(sum) / float64(count)))
}

func formatQ4Fn(category, avg int64) string { return formatQ4(category, avg) }

// query4 is 'average price for a category': the mean winning price of the auctions of
// each category. Beam's WinningBids brings auctions and bids together with a custom
// merging window fn; here a CoGroupByKey in the global window does (see the package
// comment).
func query4(s beam.Scope, events beam.PCollection) beam.PCollection {
	auctions := beam.ParDo(s.Scope("AuctionByID"), auctionByID, justAuctions(s, events))
	bids := beam.ParDo(s.Scope("BidByAuction"), bidByAuction, justBids(s, events))
	joined := beam.CoGroupByKey(s.Scope("Join"), auctions, bids)
	winning := beam.ParDo(s.Scope("WinningBids"), winningBidFn, joined)
	means := beam.CombinePerKey(s.Scope("Mean"), &meanFn{}, winning)
	return beam.ParDo(s.Scope("Format"), formatQ4Fn, means)
}

func init() {
	register.Function1x2(bidAuctionOne)
	register.Function2x1(sumInt64)
	register.Function2x1(toAuctionCount)
	register.Combiner3[topAccum, AuctionCount, topAccum](&topFn{})
	register.Function3x0(formatQ5Fn)
	register.Combiner3[topBids, Bid, topBids](&maxBidsFn{})
	register.Function3x0(formatQ7Fn)
	register.Function5x0(q8JoinFn)
}

func bidAuctionOne(b Bid) (int64, int64)           { return b.Auction, 1 }
func sumInt64(a, b int64) int64                    { return a + b }
func toAuctionCount(auction, n int64) AuctionCount { return AuctionCount{auction, n} }

// topAccum holds the auctions with the highest count seen so far.
type topAccum struct {
	Count    int64
	Auctions []int64
}

// topFn keeps all auctions with the top count, as Beam's Query5.TopCombineFn.
type topFn struct{}

func (topFn) CreateAccumulator() topAccum { return topAccum{} }
func (topFn) AddInput(a topAccum, in AuctionCount) topAccum {
	switch {
	case in.Count > a.Count:
		return topAccum{Count: in.Count, Auctions: []int64{in.Auction}}
	case in.Count == a.Count:
		a.Auctions = append(a.Auctions, in.Auction)
	}
	return a
}
func (topFn) MergeAccumulators(a, b topAccum) topAccum {
	switch {
	case b.Count > a.Count:
		return b
	case b.Count == a.Count:
		a.Auctions = append(a.Auctions, b.Auctions...)
	}
	return a
}
func (topFn) ExtractOutput(a topAccum) topAccum { return a }

// windowStart is the start of an interval window in milliseconds since the epoch.
func windowStart(w typex.Window) int64 {
	if iw, ok := w.(window.IntervalWindow); ok {
		return int64(iw.Start)
	}
	return int64(w.MaxTimestamp())
}

func formatQ5Fn(w typex.Window, top topAccum, emit func(string)) {
	for _, auction := range top.Auctions {
		emit(formatQ5(windowStart(w), auction, top.Count))
	}
}

func slidingWindows(cfg Config) *window.Fn {
	return window.NewSlidingWindows(time.Duration(cfg.WindowPeriodSec)*time.Second, time.Duration(cfg.WindowSizeSec)*time.Second)
}

func fixedWindows(cfg Config) *window.Fn {
	return window.NewFixedWindows(time.Duration(cfg.WindowSizeSec) * time.Second)
}

// query5 is 'hot items': in each sliding window, the auctions with the most bids.
func query5(s beam.Scope, cfg Config, events beam.PCollection) beam.PCollection {
	bids := beam.WindowInto(s.Scope("Window"), slidingWindows(cfg), justBids(s, events))
	ones := beam.ParDo(s.Scope("BidToAuction"), bidAuctionOne, bids)
	counts := beam.CombinePerKey(s.Scope("Count"), sumInt64, ones)
	top := beam.Combine(s.Scope("Top"), &topFn{}, beam.ParDo(s, toAuctionCount, counts))
	return toGlobal(s, beam.ParDo(s.Scope("Format"), formatQ5Fn, top))
}

// topBids holds the bids with the highest price seen so far.
type topBids struct {
	Price int64
	Bids  []Bid
}

// maxBidsFn keeps all bids with the highest price.
type maxBidsFn struct{}

func (maxBidsFn) CreateAccumulator() topBids { return topBids{Price: -1} }
func (maxBidsFn) AddInput(a topBids, b Bid) topBids {
	switch {
	case b.Price > a.Price:
		return topBids{Price: b.Price, Bids: []Bid{b}}
	case b.Price == a.Price:
		a.Bids = append(a.Bids, b)
	}
	return a
}
func (maxBidsFn) MergeAccumulators(a, b topBids) topBids {
	switch {
	case b.Price > a.Price:
		return b
	case b.Price == a.Price:
		a.Bids = append(a.Bids, b.Bids...)
	}
	return a
}
func (maxBidsFn) ExtractOutput(a topBids) topBids { return a }

func formatQ7Fn(w typex.Window, top topBids, emit func(string)) {
	for _, b := range top.Bids {
		emit(formatQ7(windowStart(w), b))
	}
}

// query7 is 'highest bid': the bids with the highest price of each fixed window. Beam's
// Query7 passes the maximum price to a second scan of the bids as a side input; Beam's Go
// direct runner does not window side inputs, so here one combiner keeps the bids with the
// top price (the more efficient form that Query7's own comment points to).
func query7(s beam.Scope, cfg Config, events beam.PCollection) beam.PCollection {
	bids := beam.WindowInto(s.Scope("Window"), fixedWindows(cfg), justBids(s, events))
	top := beam.Combine(s.Scope("MaxBids"), &maxBidsFn{}, bids)
	return toGlobal(s, beam.ParDo(s.Scope("Format"), formatQ7Fn, top))
}

// q8JoinFn emits id, name and reserve for every auction of a person created in the same
// window.
func q8JoinFn(w typex.Window, _ int64, persons func(*Person) bool, auctions func(*Auction) bool, emit func(string)) {
	var p Person
	if !persons(&p) {
		return
	}
	var a Auction
	for auctions(&a) {
		emit(formatQ8(windowStart(w), &p, a.Reserve))
	}
}

// query8 is 'monitor new users': people who created an auction in the fixed window in
// which they registered.
func query8(s beam.Scope, cfg Config, events beam.PCollection) beam.PCollection {
	persons := beam.WindowInto(s.Scope("WindowPersons"), fixedWindows(cfg), justPersons(s, events))
	auctions := beam.WindowInto(s.Scope("WindowAuctions"), fixedWindows(cfg), justAuctions(s, events))
	byID := beam.ParDo(s.Scope("PersonByID"), personByID, persons)
	bySeller := beam.ParDo(s.Scope("AuctionBySeller"), auctionBySeller, auctions)
	joined := beam.CoGroupByKey(s.Scope("Join"), byID, bySeller)
	return toGlobal(s, beam.ParDo(s.Scope("Select"), q8JoinFn, joined))
}
