package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluice-runner/sluice/tools/conformance/jobserver"
)

// conform runs the selected suite and reports. It returns the exit code.
func conform(ctx context.Context, c *config) (int, error) {
	start := time.Now()
	sel, err := newSelection(c)
	if err != nil {
		return exitSetup, err
	}
	if sel.empty() {
		fmt.Printf("# %s lists no tests: nothing to run\n", c.onlyFile)
		return exitOK, nil
	}
	var expected []testID
	if c.expected != "" {
		if expected, err = readList(c.expected); err != nil {
			return exitSetup, err
		}
	}
	logDir := filepath.Join(c.outDir, "logs")
	if err := os.RemoveAll(logDir); err != nil {
		return exitSetup, fmt.Errorf("clear old logs: %w", err)
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return exitSetup, fmt.Errorf("create log dir: %w", err)
	}

	// Compile before starting the server: it takes minutes and needs no server.
	var pkgs []*testPkg
	for _, short := range sel.packages {
		if ctx.Err() != nil {
			return exitSetup, fmt.Errorf("interrupted: %w", ctx.Err())
		}
		p := prepare(ctx, c, short)
		if p.err != nil {
			fmt.Fprintf(os.Stderr, "conformance: %v\n", p.err)
		}
		pkgs = append(pkgs, p)
	}
	compiled := time.Since(start)

	endpoint, srv, cleanup, err := startServer(ctx, c, logDir)
	if err != nil {
		return exitSetup, err
	}
	defer cleanup()
	fmt.Printf("# endpoint=%s runner=%s environment_type=%s timeout=%s parallel=%d\n",
		endpoint, c.runner, c.envType, c.timeout, c.parallel)

	var serverDone <-chan struct{}
	if srv != nil {
		serverDone = srv.Done()
	}
	results := runAll(ctx, c, sel, pkgs, endpoint, serverDone)
	cleanup()

	fmt.Println()
	printTable(os.Stdout, results)
	if err := writeResults(filepath.Join(c.outDir, "results.json"), results); err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
	}
	fmt.Printf("\n# results: %s, logs: %s\n", filepath.Join(c.outDir, "results.json"), logDir)
	fmt.Printf("# wall %.0fs (compile %.0fs)\n", time.Since(start).Seconds(), compiled.Seconds())
	ok := true
	if c.expected != "" {
		cmp := compare(expected, results, sel.inScope)
		ok = printComparison(os.Stdout, cmp, relPath(c.expected))
	}
	pass, fail, skip := counts(results)
	fmt.Printf("\n%d passed, %d failed, %d skipped\n", pass, fail, skip)
	if ctx.Err() != nil {
		return exitSetup, errors.New("interrupted; results are partial")
	}
	if !ok {
		return exitExpected, nil
	}
	return exitOK, nil
}

// startServer starts the job server unless --endpoint names one. cleanup
// stops the server and removes its data directory; it is safe to call twice.
func startServer(ctx context.Context, c *config, logDir string) (string, *jobserver.Server, func(), error) {
	if c.endpoint != "" {
		return c.endpoint, nil, func() {}, nil
	}
	dataDir, err := os.MkdirTemp("", "sluice-conformance-*")
	if err != nil {
		return "", nil, nil, fmt.Errorf("create server data dir: %w", err)
	}
	logPath := filepath.Join(logDir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		_ = os.RemoveAll(dataDir)
		return "", nil, nil, fmt.Errorf("create server log: %w", err)
	}
	args := strings.Fields(strings.ReplaceAll(c.serverArgs, "{datadir}", dataDir))
	fmt.Printf("# starting %s %s (log: %s)\n", c.server, strings.Join(args, " "), logPath)
	srv, err := jobserver.Start(ctx, jobserver.Config{
		Command: c.server, Args: args, Ready: c.readyRegex, Log: logFile, Grace: c.serverGrace,
	})
	if err != nil {
		_ = logFile.Close()
		_ = os.RemoveAll(dataDir)
		return "", nil, nil, fmt.Errorf("%w (server log: %s)", err, logPath)
	}
	done := false
	cleanup := func() {
		if done {
			return
		}
		done = true
		if err := srv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "conformance: stopping the server: %v\n", err)
		}
		_ = logFile.Close()
		_ = os.RemoveAll(dataDir)
	}
	return srv.Endpoint(), srv, cleanup, nil
}

// relPath shows p relative to the working directory when it is below it.
func relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}
