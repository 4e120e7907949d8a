// Package reference holds hand-written plain-Go programs that do the same work as benchmark
// pipelines, with no Beam and no runner: the limit a compiled pipeline is measured against
// (`make bench` runs them as the "hand-written" column).
//
//   - wordcount: testdata/wordcount's count, same regexp, same output lines.
//   - nexmark: testdata/nexmark's queries 0, 1 and 2 over the same generated events, the
//     same result lines (query 0 round-trips each event through its row coder, as the
//     pipeline does).
//   - pardo: Beam's Go pardo load test: the synthetic source's records, generated exactly
//     as its splittable DoFn generates them, through the counter-operation DoFn.
//
// Each splits its work over --workers goroutines (default: the number of CPUs), as a
// runner may; --workers=1 is the single-threaded program.
package reference
