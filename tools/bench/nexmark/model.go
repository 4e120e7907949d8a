package nexmark

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// Person is a new person registering with the auction site. DateTime is in milliseconds
// since the Unix epoch; Extra pads the record to the configured average size.
type Person struct {
	ID           int64
	Name         string
	EmailAddress string
	CreditCard   string
	City         string
	State        string
	DateTime     int64
	Extra        string
}

// Auction is a new item put up for auction. DateTime and Expires are in milliseconds since
// the Unix epoch; the auction is open in [DateTime, Expires).
type Auction struct {
	ID          int64
	ItemName    string
	Description string
	InitialBid  int64
	Reserve     int64
	DateTime    int64
	Expires     int64
	Seller      int64
	Category    int64
	Extra       string
}

// Bid is a bid on an auction. Price is in cents; DateTime in milliseconds since the epoch.
type Bid struct {
	Auction  int64
	Bidder   int64
	Price    int64
	DateTime int64
	Extra    string
}

// Event is the union of the three kinds of event: exactly one field is set.
type Event struct {
	NewPerson  *Person
	NewAuction *Auction
	Bid        *Bid
}

func init() {
	for _, t := range []any{Person{}, Auction{}, Bid{}, Event{}, AuctionCount{}, Source{}} {
		beam.RegisterType(reflect.TypeOf(t))
	}
}

// AuctionCount is a number of bids on an auction (query 5).
type AuctionCount struct {
	Auction int64
	Count   int64
}

// Size is the event's idealized size in bytes, as the generator counts it when it pads the
// event to its configured average: 8 bytes per number plus the lengths of the strings.
func (e Event) Size() int {
	switch {
	case e.NewPerson != nil:
		p := e.NewPerson
		return personFixedSize(p) + len(p.Extra)
	case e.NewAuction != nil:
		a := e.NewAuction
		return auctionFixedSize(a) + len(a.Extra)
	case e.Bid != nil:
		return bidFixedSize + len(e.Bid.Extra)
	}
	return 0
}

func personFixedSize(p *Person) int {
	return 8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State)
}

func auctionFixedSize(a *Auction) int {
	return 8 + len(a.ItemName) + len(a.Description) + 8 + 8 + 8 + 8 + 8
}

const bidFixedSize = 8 + 8 + 8 + 8

// Result lines. Every query's output is one line per result record, fields separated by
// commas (no generated string contains a comma), so that the outputs of different runners
// can be compared after sorting. Extra padding is written as its length only.

// FormatEvent renders an event (queries 0 and 1):
//
//	P,id,name,email,creditCard,city,state,dateTime,len(extra)
//	A,id,itemName,description,initialBid,reserve,dateTime,expires,seller,category,len(extra)
//	B,auction,bidder,price,dateTime,len(extra)
func FormatEvent(e Event) string {
	switch {
	case e.NewPerson != nil:
		p := e.NewPerson
		return join("P", itoa(p.ID), p.Name, p.EmailAddress, p.CreditCard, p.City, p.State,
			itoa(p.DateTime), strconv.Itoa(len(p.Extra)))
	case e.NewAuction != nil:
		a := e.NewAuction
		return join("A", itoa(a.ID), a.ItemName, a.Description, itoa(a.InitialBid), itoa(a.Reserve),
			itoa(a.DateTime), itoa(a.Expires), itoa(a.Seller), itoa(a.Category), strconv.Itoa(len(a.Extra)))
	case e.Bid != nil:
		return FormatBid(*e.Bid)
	}
	return "?"
}

// FormatBid renders a bid: B,auction,bidder,price,dateTime,len(extra).
func FormatBid(b Bid) string {
	return join("B", itoa(b.Auction), itoa(b.Bidder), itoa(b.Price), itoa(b.DateTime), strconv.Itoa(len(b.Extra)))
}

// formatQ2 renders a query 2 result: auction,price.
func formatQ2(auction, price int64) string { return join(itoa(auction), itoa(price)) }

// formatQ3 renders a query 3 result: name,city,state,auction.
func formatQ3(p *Person, auction int64) string {
	return join(p.Name, p.City, p.State, itoa(auction))
}

// formatQ4 renders a query 4 result: category,average winning price.
func formatQ4(category, avg int64) string { return join(itoa(category), itoa(avg)) }

// formatQ5 renders a query 5 result: windowStart,auction,count.
func formatQ5(windowStart, auction, count int64) string {
	return join(itoa(windowStart), itoa(auction), itoa(count))
}

// formatQ7 renders a query 7 result: windowStart,auction,bidder,price,dateTime.
func formatQ7(windowStart int64, b Bid) string {
	return join(itoa(windowStart), itoa(b.Auction), itoa(b.Bidder), itoa(b.Price), itoa(b.DateTime))
}

// formatQ8 renders a query 8 result: windowStart,personID,name,reserve.
func formatQ8(windowStart int64, p *Person, reserve int64) string {
	return join(itoa(windowStart), itoa(p.ID), p.Name, itoa(reserve))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func join(fields ...string) string { return strings.Join(fields, ",") }
