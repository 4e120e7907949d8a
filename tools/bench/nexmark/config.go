package nexmark

import "time"

// Config holds the parameters of the generator and the queries, named after Beam Java's
// NexmarkConfiguration and set to its defaults by DefaultConfig.
type Config struct {
	// BaseTime is the event time of event 0, in milliseconds since the Unix epoch.
	BaseTime int64
	// InterEventDelayUs is the event-time distance between consecutive events, in µs.
	InterEventDelayUs int64

	AvgPersonByteSize  int
	AvgAuctionByteSize int
	AvgBidByteSize     int
	// A bid goes to a hot auction with probability 1 - 1/HotAuctionRatio; likewise for
	// auctions of hot sellers and bids of hot bidders.
	HotAuctionRatio int
	HotSellersRatio int
	HotBiddersRatio int
	// NumInFlightAuctions is the average number of open auctions; it sets auction lengths
	// and the range of auction ids a cold bid picks from.
	NumInFlightAuctions int
	// NumActivePeople is the number of most recent people that cold sellers and bidders
	// are drawn from.
	NumActivePeople int

	// WindowSizeSec is the fixed and sliding window size of queries 5, 7 and 8.
	WindowSizeSec int64
	// WindowPeriodSec is the sliding window period of query 5.
	WindowPeriodSec int64
	// AuctionSkip selects the bids of query 2: those with auction % AuctionSkip == 0.
	AuctionSkip int64
}

// DefaultConfig returns Beam's default configuration: 10,000 events per second on one
// timeline (100 µs apart) from 2015-07-15T00:00:00Z.
func DefaultConfig() Config {
	return Config{
		BaseTime:            time.Date(2015, 7, 15, 0, 0, 0, 0, time.UTC).UnixMilli(),
		InterEventDelayUs:   100,
		AvgPersonByteSize:   200,
		AvgAuctionByteSize:  500,
		AvgBidByteSize:      100,
		HotAuctionRatio:     2,
		HotSellersRatio:     4,
		HotBiddersRatio:     4,
		NumInFlightAuctions: 100,
		NumActivePeople:     1000,
		WindowSizeSec:       10,
		WindowPeriodSec:     5,
		AuctionSkip:         123,
	}
}

// Event proportions: of every ProportionDenominator consecutive event numbers, the first
// PersonProportion are people, the next AuctionProportion auctions and the rest bids.
const (
	PersonProportion      = 1
	AuctionProportion     = 3
	BidProportion         = 46
	ProportionDenominator = PersonProportion + AuctionProportion + BidProportion
)

// Ids start at these values so that small inputs still find matches.
const (
	FirstPersonID   = 1000
	FirstAuctionID  = 1000
	FirstCategoryID = 10
)

// Generator constants of Beam's model generators.
const (
	numCategories  = 5
	personIDLead   = 10  // yet-to-be-created person ids a cold pick may return
	auctionIDLead  = 10  // same for auction ids
	hotGroupSize   = 100 // hot sellers, bidders and auctions are the first of each 100
	minStringLen   = 3
	queryCategory3 = 10 // the category query 3 selects
)

// timestamp is the event time of event number n, in milliseconds since the epoch.
func (c Config) timestamp(n int64) int64 {
	return c.BaseTime + n*c.InterEventDelayUs/1000
}
