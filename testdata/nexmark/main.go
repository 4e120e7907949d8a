// Command nexmark runs one Nexmark query (tools/bench/nexmark) over the standard generated
// events and writes its result lines to a text file, one line per result record, so that
// the outputs of different runners can be compared after sorting.
//
// It runs on any Beam runner; against Sluice:
//
//	go run ./testdata/nexmark --query=5 --events=100000 --output=out/nexmark/q5 \
//	    --runner=universal --endpoint=localhost:8099 --environment_type=LOOPBACK
//
// Queries: 0, 1, 2, 3, 4, 5, 7, 8 (see the nexmark package for what each computes).
//
// nexmark_sluice.go is what `go generate` writes here, one variant per query: Sluice runs
// the stages it has chains for natively (the job's messages say which). `make test`
// checks it is up to date.
package main

//go:generate go run github.com/sluice-runner/sluice/tools/sluicegen -- --query=0 -- --query=1 -- --query=2 -- --query=3 -- --query=4 -- --query=5 -- --query=7 -- --query=8

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/sluice-runner/sluice/tools/bench/nexmark"
)

var (
	query  = flag.Int("query", 0, "Nexmark query to run: 0, 1, 2, 3, 4, 5, 7 or 8")
	events = flag.Int64("events", 100_000, "number of events to generate")
	output = flag.String("output", "out/nexmark/result", "file to write the result lines to")
)

func main() {
	flag.Parse()
	beam.Init()
	if *events <= 0 || *output == "" {
		fmt.Fprintln(os.Stderr, "nexmark: --events must be positive and --output set")
		os.Exit(2)
	}
	cfg := nexmark.DefaultConfig()
	p, s := beam.NewPipelineWithRoot()
	lines, err := nexmark.Query(s, *query, cfg, nexmark.Read(s, cfg, *events))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	textio.Write(s.Scope("Write"), *output, lines)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "nexmark: query %d failed: %v\n", *query, err)
		os.Exit(1)
	}
}
