// Command wordcount is the hand-written reference for testdata/wordcount: it counts the
// words of --input with the same regexp and writes the same "word: count" lines to
// --output, in plain Go. Lines go to --workers goroutines in batches; each counts into a
// map of its own, and the maps are merged at the end.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"sync"
)

var wordRE = regexp.MustCompile(`[a-zA-Z]+('[a-z])?`)

// batchBytes is about how much text one batch of lines carries to a worker.
const batchBytes = 256 << 10

func main() {
	input := flag.String("input", "", "text file to count the words of")
	output := flag.String("output", "", "file to write the \"word: count\" lines to")
	workers := flag.Int("workers", runtime.NumCPU(), "goroutines counting words")
	flag.Parse()
	if *input == "" || *output == "" || *workers < 1 {
		fmt.Fprintln(os.Stderr, "wordcount: --input and --output are required, --workers must be positive")
		os.Exit(2)
	}
	if err := run(*input, *output, *workers); err != nil {
		fmt.Fprintf(os.Stderr, "wordcount: %v\n", err)
		os.Exit(1)
	}
}

func run(input, output string, workers int) error {
	in, err := os.Open(input)
	if err != nil {
		return err
	}
	defer in.Close()
	counts, err := count(in, workers)
	if err != nil {
		return fmt.Errorf("reading %s: %w", input, err)
	}
	out, err := os.Create(output)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	for word, n := range counts {
		fmt.Fprintf(w, "%s: %d\n", word, n)
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// count counts the words of r's lines on workers goroutines.
func count(r io.Reader, workers int) (map[string]int, error) {
	batches := make(chan []string, workers)
	partial := make([]map[string]int, workers)
	var wg sync.WaitGroup
	for i := range partial {
		partial[i] = map[string]int{}
		wg.Add(1)
		go func(m map[string]int) {
			defer wg.Done()
			for lines := range batches {
				for _, line := range lines {
					for _, word := range wordRE.FindAllString(line, -1) {
						m[word]++
					}
				}
			}
		}(partial[i])
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var lines []string
	size := 0
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if size += len(sc.Bytes()); size >= batchBytes {
			batches <- lines
			lines, size = nil, 0
		}
	}
	batches <- lines
	close(batches)
	wg.Wait()
	if err := sc.Err(); err != nil {
		return nil, err
	}
	total := partial[0]
	for _, m := range partial[1:] {
		for word, n := range m {
			total[word] += n
		}
	}
	return total, nil
}
