package nexmark

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"unsafe"
)

// Generator makes events. Event n depends only on n and the Config: its random generator
// is seeded with n before each event, as Beam seeds java.util.Random with the event id.
// A Generator is not safe for concurrent use; make one per goroutine.
type Generator struct {
	cfg Config
	src *rand.PCG
	rnd *rand.Rand
	sb  strings.Builder
}

// NewGenerator returns a generator for cfg.
func NewGenerator(cfg Config) *Generator {
	src := rand.NewPCG(0, 0)
	return &Generator{cfg: cfg, src: src, rnd: rand.New(src)}
}

// pcgStream is the second PCG seed word: any constant, fixed so that event n never changes.
const pcgStream = 0x9e3779b97f4a7c15

// Event returns event number n (n ≥ 0) and its event time in milliseconds since the epoch.
func (g *Generator) Event(n int64) (Event, int64) {
	g.src.Seed(uint64(n), pcgStream)
	ts := g.cfg.timestamp(n)
	switch rem := n % ProportionDenominator; {
	case rem < PersonProportion:
		return Event{NewPerson: g.person(n, ts)}, ts
	case rem < PersonProportion+AuctionProportion:
		return Event{NewAuction: g.auction(n, ts)}, ts
	default:
		return Event{Bid: g.bid(n, ts)}, ts
	}
}

// Events returns events 0 … n-1.
func (g *Generator) Events(n int64) []Event {
	out := make([]Event, n)
	for i := range out {
		out[i], _ = g.Event(int64(i))
	}
	return out
}

var (
	usStates   = strings.Split("AZ,CA,ID,OR,WA,WY", ",")
	usCities   = strings.Split("Phoenix,Los Angeles,San Francisco,Boise,Portland,Bend,Redmond,Seattle,Kent,Cheyenne", ",")
	firstNames = strings.Split("Peter,Paul,Luke,John,Saul,Vicky,Kate,Julie,Sarah,Deiter,Walter", ",")
	lastNames  = strings.Split("Shultz,Abrams,Spencer,White,Bartels,Walton,Smith,Jones,Noris", ",")
)

func (g *Generator) person(id, ts int64) *Person {
	r := g.rnd
	p := &Person{
		ID:           lastBase0PersonID(id) + FirstPersonID,
		Name:         firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))],
		EmailAddress: g.nextString(7) + "@" + g.nextString(5) + ".com",
		CreditCard:   fmt.Sprintf("%04d %04d %04d %04d", r.IntN(10000), r.IntN(10000), r.IntN(10000), r.IntN(10000)),
		City:         usCities[r.IntN(len(usCities))],
		State:        usStates[r.IntN(len(usStates))],
		DateTime:     ts,
	}
	p.Extra = g.nextExtra(personFixedSize(p), g.cfg.AvgPersonByteSize)
	return p
}

func (g *Generator) auction(id, ts int64) *Auction {
	r := g.rnd
	var seller int64
	if r.IntN(g.cfg.HotSellersRatio) > 0 {
		seller = lastBase0PersonID(id) / hotGroupSize * hotGroupSize
	} else {
		seller = g.nextBase0PersonID(id)
	}
	a := &Auction{
		ID:       lastBase0AuctionID(id) + FirstAuctionID,
		Seller:   seller + FirstPersonID,
		Category: FirstCategoryID + int64(r.IntN(numCategories)),
		DateTime: ts,
	}
	a.InitialBid = nextPrice(r)
	a.Expires = ts + g.nextAuctionLengthMs(id, ts)
	a.ItemName = g.nextString(20)
	a.Description = g.nextString(100)
	a.Reserve = a.InitialBid + nextPrice(r)
	a.Extra = g.nextExtra(auctionFixedSize(a), g.cfg.AvgAuctionByteSize)
	return a
}

func (g *Generator) bid(id, ts int64) *Bid {
	r := g.rnd
	var auction, bidder int64
	if r.IntN(g.cfg.HotAuctionRatio) > 0 {
		auction = lastBase0AuctionID(id) / hotGroupSize * hotGroupSize
	} else {
		auction = g.nextBase0AuctionID(id)
	}
	if r.IntN(g.cfg.HotBiddersRatio) > 0 {
		// The second person of the group, so that hot bidders and hot sellers differ.
		bidder = lastBase0PersonID(id)/hotGroupSize*hotGroupSize + 1
	} else {
		bidder = g.nextBase0PersonID(id)
	}
	b := &Bid{
		Auction:  auction + FirstAuctionID,
		Bidder:   bidder + FirstPersonID,
		Price:    nextPrice(r),
		DateTime: ts,
	}
	b.Extra = g.nextExtra(bidFixedSize, g.cfg.AvgBidByteSize)
	return b
}

// lastBase0PersonID is the id (from 0) of the last person generated at or before event id.
func lastBase0PersonID(id int64) int64 {
	epoch, offset := id/ProportionDenominator, id%ProportionDenominator
	if offset >= PersonProportion {
		offset = PersonProportion - 1
	}
	return epoch*PersonProportion + offset
}

// lastBase0AuctionID is the id (from 0) of the last auction generated at or before event id.
func lastBase0AuctionID(id int64) int64 {
	epoch, offset := id/ProportionDenominator, id%ProportionDenominator
	switch {
	case offset < PersonProportion:
		epoch--
		offset = AuctionProportion - 1
	case offset >= PersonProportion+AuctionProportion:
		offset = AuctionProportion - 1
	default:
		offset -= PersonProportion
	}
	return epoch*AuctionProportion + offset
}

// nextBase0PersonID picks one of the NumActivePeople most recent people, or one of the
// next few not yet created.
func (g *Generator) nextBase0PersonID(id int64) int64 {
	numPeople := lastBase0PersonID(id) + 1
	active := min(numPeople, int64(g.cfg.NumActivePeople))
	return numPeople - active + g.rnd.Int64N(active+personIDLead)
}

// nextBase0AuctionID picks one of the auctions likely still open, or one of the next few.
func (g *Generator) nextBase0AuctionID(id int64) int64 {
	maxAuction := lastBase0AuctionID(id)
	minAuction := max(maxAuction-int64(g.cfg.NumInFlightAuctions), 0)
	return minAuction + g.rnd.Int64N(maxAuction-minAuction+1+auctionIDLead)
}

// nextAuctionLengthMs is a random auction length averaging the event time until
// NumInFlightAuctions more auctions have been generated.
func (g *Generator) nextAuctionLengthMs(id, ts int64) int64 {
	eventsForAuctions := int64(g.cfg.NumInFlightAuctions) * ProportionDenominator / AuctionProportion
	horizon := g.cfg.timestamp(id+eventsForAuctions) - ts
	return 1 + g.rnd.Int64N(max(horizon*2, 1))
}

// nextPrice is a price in cents, log-uniform between $1 and $1M.
func nextPrice(r *rand.Rand) int64 {
	return int64(math.Round(math.Pow(10, r.Float64()*6) * 100))
}

// nextString is a string of lower-case letters and spaces, of length 3 to maxLen-1 before
// trimming the spaces at its ends.
func (g *Generator) nextString(maxLen int) string {
	r := g.rnd
	n := minStringLen + r.IntN(maxLen-minStringLen)
	g.sb.Reset()
	for range n {
		if r.IntN(13) == 0 {
			g.sb.WriteByte(' ')
		} else {
			g.sb.WriteByte(byte('a' + r.IntN(26)))
		}
	}
	return strings.TrimSpace(g.sb.String())
}

// nextExtra is padding that brings a record of currentSize bytes to avgSize on average:
// uniformly ±20% around the missing size.
func (g *Generator) nextExtra(currentSize, avgSize int) string {
	if currentSize > avgSize {
		return ""
	}
	want := avgSize - currentSize
	delta := int(math.Round(float64(want) * 0.2))
	size := want - delta
	if delta > 0 {
		size += g.rnd.IntN(2 * delta)
	}
	return g.exactString(size)
}

// exactString is n random lower-case letters, 13 from each 64-bit draw: letter j of a
// draw is its base-26 digit j. The draw is cut into two 6-digit parts and the last digit
// first, so the digits come from three short chains of 32-bit divisions instead of one
// chain of 13 64-bit ones (the padding is most of the generator's work).
func (g *Generator) exactString(n int) string {
	if n <= 0 {
		return ""
	}
	// Whole draws are written, and the string is the first n bytes.
	b := make([]byte, (n+12)/13*13)
	for i := 0; i < n; i += 13 {
		bits := g.rnd.Uint64()
		lo, mid, hi := uint32(bits%pow26x6), uint32(bits/pow26x6%pow26x6), uint32(bits/(pow26x6*pow26x6))
		d := b[i : i+13 : i+13]
		for j := range 6 {
			d[j] = byte('a' + lo%26)
			d[6+j] = byte('a' + mid%26)
			lo /= 26
			mid /= 26
		}
		d[12] = byte('a' + hi%26)
	}
	// b is not written again: the string may share its bytes.
	return unsafe.String(&b[0], n)
}

// pow26x6 is 26⁶, the largest power of 26 that fits in 32 bits.
const pow26x6 = 26 * 26 * 26 * 26 * 26 * 26
