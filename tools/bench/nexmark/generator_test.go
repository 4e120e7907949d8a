package nexmark

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"
)

func TestGeneratorProportionsAndIDs(t *testing.T) {
	cfg := DefaultConfig()
	events := NewGenerator(cfg).Events(5000)
	var persons, auctions, bids int
	nextPerson, nextAuction := int64(FirstPersonID), int64(FirstAuctionID)
	for n, e := range events {
		kinds := 0
		switch rem := n % ProportionDenominator; {
		case e.NewPerson != nil:
			kinds++
			persons++
			if rem != 0 || e.NewPerson.ID != nextPerson {
				t.Fatalf("event %d: person %d, want id %d at offset 0 of each 50", n, e.NewPerson.ID, nextPerson)
			}
			nextPerson++
		case e.NewAuction != nil:
			kinds++
			auctions++
			if rem < 1 || rem > 3 || e.NewAuction.ID != nextAuction {
				t.Fatalf("event %d: auction %d, want id %d at offsets 1-3", n, e.NewAuction.ID, nextAuction)
			}
			nextAuction++
		case e.Bid != nil:
			kinds++
			bids++
			if rem < 4 {
				t.Fatalf("event %d: bid at offset %d", n, rem)
			}
		}
		if kinds != 1 {
			t.Fatalf("event %d sets %d kinds", n, kinds)
		}
	}
	if persons != 100 || auctions != 300 || bids != 4600 {
		t.Errorf("persons/auctions/bids = %d/%d/%d, want 100/300/4600", persons, auctions, bids)
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	a := NewGenerator(cfg).Events(2000)
	g := NewGenerator(cfg)
	// Out of order and with a reused generator: event n depends on n only.
	for _, n := range []int64{1999, 0, 57, 1, 3, 1000, 57} {
		e, ts := g.Event(n)
		if !reflect.DeepEqual(e, a[n]) {
			t.Fatalf("event %d differs on a second generation:\n%+v\n%+v", n, e, a[n])
		}
		if want := cfg.BaseTime + n/10; ts != want {
			t.Errorf("event %d at %d, want %d (100 µs apart)", n, ts, want)
		}
	}
	other := cfg
	other.AvgBidByteSize = 300
	if e, _ := NewGenerator(other).Event(10); len(e.Bid.Extra) <= len(a[10].Bid.Extra) {
		t.Errorf("a larger AvgBidByteSize did not lengthen bid padding")
	}
}

func TestGeneratorSizesAndFields(t *testing.T) {
	cfg := DefaultConfig()
	events := NewGenerator(cfg).Events(50_000)
	var size [3]float64
	var count [3]int
	hotBids, cat := 0, map[int64]bool{}
	for n, e := range events {
		k := 2
		switch {
		case e.NewPerson != nil:
			k = 0
			p := e.NewPerson
			if len(p.State) != 2 || p.City == "" || len(p.CreditCard) != 19 || p.DateTime != cfg.timestamp(int64(n)) {
				t.Fatalf("person %+v", p)
			}
		case e.NewAuction != nil:
			k = 1
			a := e.NewAuction
			cat[a.Category] = true
			if a.Expires <= a.DateTime || a.Reserve < a.InitialBid || a.Seller < FirstPersonID || a.Seller > FirstPersonID+int64(n)/50+10 {
				t.Fatalf("auction %+v at event %d", a, n)
			}
		default:
			b := e.Bid
			if b.Price < 100 || b.Price > 100_000_000 || b.Auction < FirstAuctionID {
				t.Fatalf("bid %+v", b)
			}
			if lastBase0AuctionID(int64(n))/100*100+FirstAuctionID == b.Auction {
				hotBids++
			}
		}
		size[k] += float64(e.Size())
		count[k]++
	}
	for k, want := range []float64{200, 500, 100} {
		if avg := size[k] / float64(count[k]); avg < 0.9*want || avg > 1.1*want {
			t.Errorf("kind %d: average size %.1f, want about %.0f", k, avg, want)
		}
	}
	if len(cat) != 5 {
		t.Errorf("categories %v, want 10-14", cat)
	}
	// A bid goes to the hot auction with probability 1/2 plus a little (cold picks may hit it).
	if frac := float64(hotBids) / float64(count[2]); frac < 0.45 || frac > 0.6 {
		t.Errorf("%.2f of bids on the hot auction, want about 0.5", frac)
	}
}

// TestGeneratorStable pins the events themselves: benchmark figures of different versions
// compare only while the generator makes the same events, so a change to it that alters
// them (rather than making them faster) must be deliberate and change this digest.
func TestGeneratorStable(t *testing.T) {
	h := sha256.New()
	g := NewGenerator(DefaultConfig())
	for n := range int64(20_000) {
		e, ts := g.Event(n)
		fmt.Fprintf(h, "%d %+v %+v %+v\n", ts, e.NewPerson, e.NewAuction, e.Bid)
	}
	const want = "032e1ad06c9cb30a71ffeee58256c83076bd249b937e14541ce59d7d3be890dc"
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("events 0…19999 digest %s, want %s", got, want)
	}
}
