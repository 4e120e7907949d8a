// Command gen writes a deterministic English-like text of a requested size, the input of
// the word-count example and benchmarks (see package textgen).
//
//	go run ./testdata/wordcount/gen --size=200000 --out=testdata/wordcount/input.txt
//	go run ./testdata/wordcount/gen --size=50000000 --out=out/bench/input-50mb.txt
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sluice-runner/sluice/tools/bench/textgen"
)

func main() {
	size := flag.Int64("size", 200_000, "bytes to write (the text ends at the last whole line below this size)")
	seed := flag.Uint64("seed", 1, "random seed")
	out := flag.String("out", "", "output file; empty writes to stdout")
	flag.Parse()
	if err := run(*size, *seed, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(size int64, seed uint64, path string) error {
	if path == "" {
		return textgen.Write(os.Stdout, size, seed)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create output: %w", err)
	}
	if err := textgen.Write(f, size, seed); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close output: %w", err)
	}
	return nil
}
