package nexmark

import (
	"fmt"
	"slices"
)

// Reference computes query q over events with plain Go, without Beam: the expected result
// lines, in no particular order. An event's event time is its DateTime.
func Reference(q int, cfg Config, events []Event) ([]string, error) {
	if f, ok := EventQuery(q, cfg); ok {
		return refMap(events, f), nil
	}
	switch q {
	case 3:
		return refQuery3(events), nil
	case 4:
		return refQuery4(events), nil
	case 5:
		return refQuery5(cfg, events), nil
	case 7:
		return refQuery7(cfg, events), nil
	case 8:
		return refQuery8(cfg, events), nil
	}
	return nil, fmt.Errorf("nexmark: no query %d (have %v)", q, Queries)
}

// EventQuery is the work of query q on one event, for the queries that keep nothing across
// events (0, 1 and 2): the event's result line, if it has one. ok is false for the others.
// Query 0's round trip through the event's coder is the pipeline's own (a cost, not a
// result), so it is not here.
func EventQuery(q int, cfg Config) (f func(Event) (string, bool), ok bool) {
	switch q {
	case 0:
		return func(e Event) (string, bool) { return FormatEvent(e), true }, true
	case 1:
		return func(e Event) (string, bool) {
			if e.Bid == nil {
				return "", false
			}
			return FormatBid(toEuros(*e.Bid)), true
		}, true
	case 2:
		return func(e Event) (string, bool) {
			if e.Bid == nil || e.Bid.Auction%cfg.AuctionSkip != 0 {
				return "", false
			}
			return formatQ2(e.Bid.Auction, e.Bid.Price), true
		}, true
	}
	return nil, false
}

func refMap(events []Event, f func(Event) (string, bool)) []string {
	var out []string
	for _, e := range events {
		if s, ok := f(e); ok {
			out = append(out, s)
		}
	}
	return out
}

// refQuery3: people in OR, ID or CA joined with their auctions in category 10.
func refQuery3(events []Event) []string {
	persons := map[int64]*Person{}
	for _, e := range events {
		if p := e.NewPerson; p != nil && (p.State == "OR" || p.State == "ID" || p.State == "CA") {
			persons[p.ID] = p
		}
	}
	var out []string
	for _, e := range events {
		if a := e.NewAuction; a != nil && a.Category == queryCategory3 {
			if p, ok := persons[a.Seller]; ok {
				out = append(out, formatQ3(p, a.ID))
			}
		}
	}
	return out
}

// refQuery4: the mean over each category of the auctions' winning prices.
func refQuery4(events []Event) []string {
	auctions := map[int64]*Auction{}
	for _, e := range events {
		if a := e.NewAuction; a != nil {
			auctions[a.ID] = a
		}
	}
	best := map[int64]int64{} // auction id → winning price
	for _, e := range events {
		b := e.Bid
		if b == nil {
			continue
		}
		a, ok := auctions[b.Auction]
		if !ok || b.Price < a.Reserve || b.DateTime < a.DateTime || b.DateTime >= a.Expires {
			continue
		}
		if p, ok := best[a.ID]; !ok || b.Price > p {
			best[a.ID] = b.Price
		}
	}
	type sum struct{ total, n int64 }
	byCategory := map[int64]sum{}
	for id, price := range best {
		c := auctions[id].Category
		s := byCategory[c]
		byCategory[c] = sum{s.total + price, s.n + 1}
	}
	var out []string
	for c, s := range byCategory {
		out = append(out, formatQ4(c, roundedMean(s.total, s.n)))
	}
	return out
}

// fixedWindowStart is the start of the fixed window of size ms containing ts.
func fixedWindowStart(ts, size int64) int64 {
	return ts - mod(ts, size)
}

// slidingWindowStarts are the starts of the sliding windows (size, period in ms) that
// contain ts.
func slidingWindowStarts(ts, size, period int64) []int64 {
	var starts []int64
	for start := ts - mod(ts, period); start > ts-size; start -= period {
		starts = append(starts, start)
	}
	return starts
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// refQuery5: in each sliding window, the auctions with the most bids.
func refQuery5(cfg Config, events []Event) []string {
	size, period := cfg.WindowSizeSec*1000, cfg.WindowPeriodSec*1000
	counts := map[int64]map[int64]int64{} // window start → auction → bids
	for _, e := range events {
		if b := e.Bid; b != nil {
			for _, w := range slidingWindowStarts(b.DateTime, size, period) {
				if counts[w] == nil {
					counts[w] = map[int64]int64{}
				}
				counts[w][b.Auction]++
			}
		}
	}
	var out []string
	for w, byAuction := range counts {
		top := int64(0)
		for _, n := range byAuction {
			top = max(top, n)
		}
		for auction, n := range byAuction {
			if n == top {
				out = append(out, formatQ5(w, auction, n))
			}
		}
	}
	return out
}

// refQuery7: in each fixed window, the bids with the highest price.
func refQuery7(cfg Config, events []Event) []string {
	size := cfg.WindowSizeSec * 1000
	maxPrice := map[int64]int64{}
	for _, e := range events {
		if b := e.Bid; b != nil {
			w := fixedWindowStart(b.DateTime, size)
			if p, ok := maxPrice[w]; !ok || b.Price > p {
				maxPrice[w] = b.Price
			}
		}
	}
	var out []string
	for _, e := range events {
		if b := e.Bid; b != nil {
			if w := fixedWindowStart(b.DateTime, size); b.Price == maxPrice[w] {
				out = append(out, formatQ7(w, *b))
			}
		}
	}
	return out
}

// refQuery8: people and the reserves of the auctions they created in the fixed window in
// which they registered.
func refQuery8(cfg Config, events []Event) []string {
	size := cfg.WindowSizeSec * 1000
	type key struct{ window, id int64 }
	persons := map[key]*Person{}
	for _, e := range events {
		if p := e.NewPerson; p != nil {
			persons[key{fixedWindowStart(p.DateTime, size), p.ID}] = p
		}
	}
	var out []string
	for _, e := range events {
		if a := e.NewAuction; a != nil {
			w := fixedWindowStart(a.DateTime, size)
			if p, ok := persons[key{w, a.Seller}]; ok {
				out = append(out, formatQ8(w, p, a.Reserve))
			}
		}
	}
	return out
}

// Sorted returns lines sorted, for comparing results as multisets.
func Sorted(lines []string) []string {
	out := slices.Clone(lines)
	slices.Sort(out)
	return out
}
