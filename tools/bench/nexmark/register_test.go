package nexmark

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/util/reflectx"
)

// TestRegistered checks that the SDK harness calls every function, DoFn, combiner, emitter
// and iterator of the pipelines through the register package's generated callers, not by
// reflection.
func TestRegistered(t *testing.T) {
	for _, fn := range []any{
		formatEvent, formatBid, toEuros, justBidsFn, justPersonsFn, justAuctionsFn,
		q3PersonsFn, q3AuctionsFn, q3JoinFn, personByID, auctionBySeller, auctionByID, bidByAuction,
		winningBidFn, formatQ4Fn, bidAuctionOne, sumInt64, toAuctionCount, formatQ5Fn, formatQ7Fn, q8JoinFn,
	} {
		if f := reflectx.MakeFunc(fn); fmt.Sprintf("%T", f) == "*reflectx.reflectFunc" {
			t.Errorf("%s is called by reflection", reflectx.FunctionName(fn))
		}
	}
	for _, fn := range []any{&generateFn{}, &roundTripFn{}, &auctionSkipFn{}, &meanFn{}, &topFn{}, &maxBidsFn{}} {
		if _, ok := reflectx.WrapMethods(fn); !ok {
			t.Errorf("%T has no registered method wrapper", fn)
		}
	}
	for _, e := range []any{
		(*func(beam.EventTime, Event))(nil), (*func(Event))(nil), (*func(Bid))(nil), (*func(Person))(nil),
		(*func(Auction))(nil), (*func(string))(nil), (*func(int64, Person))(nil), (*func(int64, Auction))(nil),
		(*func(int64, int64))(nil),
	} {
		if tp := reflect.TypeOf(e).Elem(); !exec.IsEmitterRegistered(tp) {
			t.Errorf("emitter %v is not registered", tp)
		}
	}
	for _, it := range []any{(*func(*Person) bool)(nil), (*func(*Auction) bool)(nil), (*func(*Bid) bool)(nil)} {
		if tp := reflect.TypeOf(it).Elem(); !exec.IsInputRegistered(tp) {
			t.Errorf("iterator %v is not registered", tp)
		}
	}
}
