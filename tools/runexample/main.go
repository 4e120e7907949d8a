// Command runexample is `make run`: it starts a Beam job server (by default
// bin/sluice serve with a fresh data directory under out/), runs the
// word-count pipeline (bin/wordcount, built from testdata/wordcount) against
// it with LOOPBACK workers, prints the ten most frequent words and the path of
// the full output, and stops the server, also when anything fails.
//
// Usage (from the repository root, after make build and building the
// pipeline; `make run` does all of it):
//
//	go run ./tools/runexample [--server=bin/sluice] [--endpoint=HOST:PORT]
//	    [--pipeline=bin/wordcount] [--input=FILE] [--output=FILE]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-runner/sluice/tools/conformance/jobserver"
)

type config struct {
	server     string
	serverArgs string
	ready      *regexp.Regexp
	endpoint   string
	dataDir    string
	pipeline   string
	input      string
	output     string
	timeout    time.Duration
	top        int
}

func main() {
	var c config
	var ready string
	flag.StringVar(&c.server, "server", "bin/sluice", "job server executable to start (ignored with --endpoint)")
	flag.StringVar(&c.serverArgs, "server-args", "serve --job-port=0 --data-dir={datadir}", "server arguments, split on spaces; {datadir} is replaced by --data-dir")
	flag.StringVar(&ready, "ready-regex", jobserver.DefaultReady.String(), "regexp for the server's ready line; submatch 1 is the endpoint")
	flag.StringVar(&c.endpoint, "endpoint", "", "HOST:PORT of an already running job server; none is started")
	flag.StringVar(&c.dataDir, "data-dir", "out/run/sluice-data", "server data directory, emptied first")
	flag.StringVar(&c.pipeline, "pipeline", "bin/wordcount", "word-count pipeline binary")
	flag.StringVar(&c.input, "input", "testdata/wordcount/input.txt", "text to count")
	flag.StringVar(&c.output, "output", "out/wordcount/counts", "where the pipeline writes its \"word: count\" lines")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Minute, "give up on the pipeline after this long")
	flag.IntVar(&c.top, "top", 10, "how many of the most frequent words to print")
	flag.Parse()
	var err error
	if c.ready, err = regexp.Compile(ready); err != nil {
		fmt.Fprintf(os.Stderr, "runexample: --ready-regex: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, &c)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "runexample: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c *config) error {
	for _, p := range []*string{&c.dataDir, &c.pipeline, &c.input, &c.output} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("path %q: %w", *p, err)
		}
		*p = abs
	}
	if _, err := os.Stat(c.input); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(c.output), 0o755); err != nil {
		return fmt.Errorf("create output dir: %w", err)
	}
	if err := os.Remove(c.output); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove old output: %w", err)
	}
	endpoint := c.endpoint
	if endpoint == "" {
		srv, logPath, err := startServer(ctx, c)
		if err != nil {
			return err
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "runexample: stopping the server: %v (log: %s)\n", err, logPath)
			}
		}()
		endpoint = srv.Endpoint()
		fmt.Printf("job server ready at %s (log: %s)\n", endpoint, logPath)
	}
	start := time.Now()
	if err := runPipeline(ctx, c, endpoint); err != nil {
		return err
	}
	fmt.Printf("pipeline finished in %.1fs\n", time.Since(start).Seconds())
	printStageModes(ctx, endpoint)
	return printTop(c.output, c.top)
}

// startServer empties the data directory and starts the job server, its
// output going to a log file next to the data directory.
func startServer(ctx context.Context, c *config) (*jobserver.Server, string, error) {
	if err := os.RemoveAll(c.dataDir); err != nil {
		return nil, "", fmt.Errorf("empty data dir: %w", err)
	}
	if err := os.MkdirAll(c.dataDir, 0o755); err != nil {
		return nil, "", fmt.Errorf("create data dir: %w", err)
	}
	logPath := filepath.Join(filepath.Dir(c.dataDir), "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, "", fmt.Errorf("create server log: %w", err)
	}
	// The file stays open while the server runs; the process exits soon after.
	args := strings.Fields(strings.ReplaceAll(c.serverArgs, "{datadir}", c.dataDir))
	fmt.Printf("starting %s %s\n", c.server, strings.Join(args, " "))
	srv, err := jobserver.Start(ctx, jobserver.Config{Command: c.server, Args: args, Ready: c.ready, Log: logFile})
	if err != nil {
		_ = logFile.Close()
		return nil, "", fmt.Errorf("%w (server log: %s)", err, logPath)
	}
	return srv, logPath, nil
}
