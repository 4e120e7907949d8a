package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

type wordCount struct {
	word  string
	count int64
}

// readCounts parses "word: count" lines.
func readCounts(path string) ([]wordCount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read pipeline output: %w", err)
	}
	defer f.Close()
	var wcs []wordCount
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		word, num, ok := strings.Cut(line, ": ")
		count, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s:%d: %q is not a \"word: count\" line", path, n, line)
		}
		wcs = append(wcs, wordCount{word, count})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read pipeline output: %w", err)
	}
	return wcs, nil
}

// printTop prints the top most frequent words (ties by word) and the totals.
func printTop(path string, top int) error {
	wcs, err := readCounts(path)
	if err != nil {
		return err
	}
	if len(wcs) == 0 {
		return fmt.Errorf("pipeline output %s is empty", path)
	}
	sort.Slice(wcs, func(i, j int) bool {
		if wcs[i].count != wcs[j].count {
			return wcs[i].count > wcs[j].count
		}
		return wcs[i].word < wcs[j].word
	})
	var total int64
	for _, wc := range wcs {
		total += wc.count
	}
	fmt.Printf("\ntop %d of %d distinct words (%d words in all):\n", min(top, len(wcs)), len(wcs), total)
	for _, wc := range wcs[:min(top, len(wcs))] {
		fmt.Printf("  %-12s %d\n", wc.word, wc.count)
	}
	fmt.Printf("full output: %s\n", path)
	return nil
}
