// Package nexmark is the Nexmark benchmark as Beam Go pipelines: the event model, the
// standard event generator as a bounded splittable source, queries 0, 1, 2, 3, 4, 5, 7
// and 8, and a plain-Go reference implementation of each query to check them against.
// testdata/nexmark runs one query; tools/bench/driver runs it on Sluice, prism and Beam's
// Go direct runner (workloads nexmark_q0 … nexmark_q8).
//
// It follows Beam Java's Nexmark (sdks/java/testing/nexmark), read for semantics only.
//
// # Model and generator
//
// Person, Auction and Bid carry the fields of Beam's model, with times as milliseconds
// since the Unix epoch; Event is their union. Every type and DoFn is registered with the
// Go SDK's register package (and beam.RegisterType), so that an SDK harness in LOOPBACK or
// PROCESS mode calls them without reflection. Values are encoded with the Go SDK's row
// coder (beam:coder:row:v1), where Beam Java defaults to hand-written coders.
//
// The generator (Generator, Config) follows Beam's Generator, GeneratorConfig and model
// generators at DefaultConfig, which is Beam's default configuration: of every 50
// consecutive event numbers, 1 is a new person, 3 are new auctions and 46 are bids; ids
// start at 1000 and categories at 10 (5 categories); hot auctions, sellers and bidders
// (ratios 2, 4 and 4: a bid goes to the current hot auction with probability 1/2, and so
// on); cold sellers and bidders among the 1000 most recent people, cold bids among the
// ~100 auctions in flight (plus 10 ids not yet created); auction lengths averaging the
// time until 100 more auctions have started; prices log-uniform from $1 to $1M; names,
// cities and states from Beam's lists; and the extra field padding people, auctions and
// bids to 200, 500 and 100 bytes on average (±20%). Event n has event time
// BaseTime + n × InterEventDelayUs: 10,000 events per second on one timeline, 100 µs
// apart, from a fixed time (2015-07-15T00:00:00Z) so that every run sees the same
// events. (Beam Java splits its default rate over 100 generator timelines, each 100 times
// slower, so its auctions last about 100 times longer in event time.)
//
// Each event is a deterministic function of its event number and the Config: the random
// generator is re-seeded with the event number before each event, as Beam seeds
// java.util.Random with the event id. The generator is Go's PCG (math/rand/v2), cheap to
// seed, so the events do not match Beam Java's bit for bit; only the distributions do.
//
// Read is the source: a splittable DoFn over the offset range [0, N) of event numbers
// (offsetrange.Tracker behind sdf.LockRTracker, split into DefaultInitialSplits initial
// pieces, sized by the number of events) that emits each event with its event time as
// the element timestamp, in the global window.
//
// # Queries
//
// Query builds a query over Read's output and returns one line per result record, in
// the global window, with comma-separated fields (times and window starts in milliseconds
// since the epoch):
//
//   - q0, pass-through: every event, after a round trip through its coder, as Beam's
//     Query0; the line is FormatEvent's (the extra padding appears as its length).
//   - q1, currency conversion: every bid with its price in euros (price × 89 / 100), as
//     FormatBid renders it.
//   - q2, selection: "auction,price" of the bids with auction % 123 == 0.
//   - q3, local item suggestion: "name,city,state,auction" for every auction in category
//     10 whose seller lives in OR, ID or CA.
//   - q4, average price for a category: "category,mean" where mean is the rounded mean of
//     the winning prices of the category's auctions. The winning bid of an auction is its
//     highest bid with price ≥ reserve and a time in [auction start, auction expiry).
//   - q5, hot items: "windowStart,auction,count" for the auctions with the most bids in
//     each sliding window (10 s, every 5 s).
//   - q7, highest bid: "windowStart,auction,bidder,price,dateTime" for the bids with the
//     highest price in each fixed 10 s window. Beam passes the maximum as a side input to
//     a second scan of the bids; Beam's Go direct runner does not window side inputs, so
//     here one combiner keeps the top bids.
//   - q8, monitor new users: "windowStart,personID,name,reserve" for every auction created
//     in the fixed 10 s window in which its seller registered.
//
// Query 3 in Beam joins people and auctions with a stateful DoFn and an event-time timer,
// and query 4 finds winning bids with a custom merging window fn. Sluice does not support
// timers yet and the Go SDK has only the built-in window fns, so both join with a
// CoGroupByKey in the global window instead. On a bounded input every auction is closed
// when the input ends and every person or auction meets all its partners in one group,
// so the joins find the same pairs as Beam's. The differences are elsewhere: Beam's
// query 3 drops a key's state 600 s of event time after its last event (6M events at the
// default rate, more than the benchmark generates); Beam's query 4 averages over sliding
// windows of winning bids, where this one averages over the whole input; and Beam's
// winning-bid logic also accepts a bid made before its auction appeared (a cold bid may
// name one of the next 10 auction ids), where this one requires the bid's time to be in
// [auction start, auction expiry).
//
// Reference computes each query with plain Go over a slice of events; the tests run every
// query on Beam's direct runner and compare its lines with the reference as multisets.
package nexmark
