package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// beamTest is the import path prefix of the Beam Go SDK integration tests.
const beamTest = "github.com/apache/beam/sdks/v2/go/test/"

// defaultPackages are the suite packages that need no outside service.
var defaultPackages = []string{"integration/primitives", "integration/synthetic", "integration/wordcount", "regression"}

type config struct {
	server      string
	serverArgs  string
	readyRegex  *regexp.Regexp
	endpoint    string
	packages    []string // short names relative to beamTest
	runRegex    *regexp.Regexp
	onlyFile    string
	expected    string
	parallel    int
	timeout     time.Duration
	drainAfter  time.Duration
	outDir      string
	module      string
	runner      string
	envType     string
	extraArgs   []string
	serverGrace time.Duration
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		c        config
		pkgs     string
		runRe    string
		readyRe  string
		extra    string
		usageOut strings.Builder
	)
	fs.StringVar(&c.server, "server", "bin/sluice", "job server executable to start (ignored with --endpoint)")
	fs.StringVar(&c.serverArgs, "server-args", "serve --job-port=0 --data-dir={datadir}", "server arguments, split on spaces; {datadir} is replaced by a fresh temporary directory")
	fs.StringVar(&readyRe, "ready-regex", `job_endpoint="?([^\s"]+)`, "regexp for the server's ready line; submatch 1 is the endpoint (prism: 'Serving JobManagement.*endpoint=(\\S+)')")
	fs.StringVar(&c.endpoint, "endpoint", "", "HOST:PORT of an already running job server; no server is started")
	fs.StringVar(&pkgs, "packages", strings.Join(defaultPackages, ","), "comma-separated test packages, relative to "+beamTest)
	fs.StringVar(&runRe, "run", "", "only run top-level tests whose name matches this regexp")
	fs.StringVar(&c.onlyFile, "only-file", "", "only run the tests listed in this file (expected-pass format)")
	fs.StringVar(&c.expected, "expected", "conformance/expected-pass.txt", "expected-pass list to compare with; empty disables the comparison")
	fs.IntVar(&c.parallel, "parallel", 1, "top-level tests to run at once")
	fs.DurationVar(&c.timeout, "timeout", 120*time.Second, "per top-level test timeout (-test.timeout); the process is killed 30s later")
	fs.DurationVar(&c.drainAfter, "drain-after", 5*time.Second, "TestDrain: call Drain this long after its job is RUNNING")
	fs.StringVar(&c.outDir, "out", "out/conformance", "directory for results.json, logs/ and test binaries")
	fs.StringVar(&c.module, "module", "conformance", "nested Go module that requires the Beam SDK; test packages compile from here")
	fs.StringVar(&c.runner, "runner", "universal", "value of the pipelines' -runner flag")
	fs.StringVar(&c.envType, "environment-type", "LOOPBACK", "value of the pipelines' -environment_type flag")
	fs.StringVar(&extra, "extra-args", "", "extra pipeline flags, split on spaces")
	fs.DurationVar(&c.serverGrace, "server-grace", 10*time.Second, "how long the server gets to exit after SIGTERM before it is killed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(&usageOut)
			fs.PrintDefaults()
			return nil, fmt.Errorf("usage: go run ./tools/conformance [flags]\n%s", usageOut.String())
		}
		return nil, fmt.Errorf("%w (see --help)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	var err error
	if c.readyRegex, err = regexp.Compile(readyRe); err != nil {
		return nil, fmt.Errorf("--ready-regex: %w", err)
	}
	if runRe != "" {
		if c.runRegex, err = regexp.Compile(runRe); err != nil {
			return nil, fmt.Errorf("--run: %w", err)
		}
	}
	for _, p := range strings.Split(pkgs, ",") {
		if p = strings.TrimPrefix(strings.TrimSpace(p), beamTest); p != "" {
			c.packages = append(c.packages, p)
		}
	}
	if len(c.packages) == 0 {
		return nil, errors.New("--packages: no package given")
	}
	if c.parallel < 1 {
		return nil, fmt.Errorf("--parallel must be at least 1, got %d", c.parallel)
	}
	if c.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, got %s", c.timeout)
	}
	c.extraArgs = strings.Fields(extra)
	// Test processes run in their package's source directory, so every
	// path handed to them or kept across directories must be absolute.
	for _, p := range []*string{&c.outDir, &c.module, &c.onlyFile, &c.expected} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return nil, fmt.Errorf("path %q: %w", *p, err)
			}
		}
	}
	if c.endpoint == "" && strings.ContainsRune(c.server, filepath.Separator) {
		if c.server, err = filepath.Abs(c.server); err != nil {
			return nil, fmt.Errorf("--server: %w", err)
		}
	}
	return &c, nil
}
