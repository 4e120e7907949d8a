package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a fake job server ("serve") and a fake pipeline (given
// --output) when helperEnv is set.
const helperEnv = "MODELCHECK_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "" {
		os.Exit(m.Run())
	}
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "serve" {
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		fmt.Fprintln(os.Stderr, `level=INFO msg="job service ready" job_endpoint=127.0.0.1:4321`)
		<-term
		os.Exit(0)
	}
	var endpoint, output string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--endpoint="); ok {
			endpoint = v
		}
		if v, ok := strings.CutPrefix(a, "--output="); ok {
			output = v
		}
	}
	if endpoint != "127.0.0.1:4321" || !slices.Contains(args, "--environment_type=LOOPBACK") {
		fmt.Fprintf(os.Stderr, "bad pipeline args %q\n", args)
		os.Exit(2)
	}
	if os.Getenv(helperEnv) == "hang" {
		time.Sleep(time.Minute)
	}
	if err := os.WriteFile(output, []byte("b 2\na 1\n"), 0o644); err != nil {
		os.Exit(3)
	}
}

func TestRunOn(t *testing.T) {
	t.Setenv(helperEnv, "ok")
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(out, "output"), 0o755); err != nil {
		t.Fatal(err)
	}
	e := &env{opts: options{sluice: os.Args[0], out: out, timeout: 30 * time.Second}, tmp: t.TempDir()}
	p := &pipeline{name: "fake"}

	res := runOn(context.Background(), e, p, os.Args[0], runnerSluice)
	if res.err != nil || !res.ran || !slices.Equal(res.lines, []string{"a 1", "b 2"}) || res.note != "" {
		t.Errorf("runOn = %+v", res)
	}
	if _, err := os.Stat(filepath.Join(out, "logs", "fake-sluice-server.log")); err != nil {
		t.Errorf("no server log: %v", err)
	}

	t.Setenv(helperEnv, "hang")
	e.opts.timeout = 300 * time.Millisecond
	start := time.Now()
	res = runOn(context.Background(), e, p, os.Args[0], runnerSluice)
	if res.err == nil || !res.timedOut || time.Since(start) > 20*time.Second {
		t.Errorf("hanging pipeline: %+v after %s", res, time.Since(start))
	}
}

func TestBuildError(t *testing.T) {
	err := build(context.Background(), "go", "./no/such/package", filepath.Join(t.TempDir(), "bin"))
	if err == nil || !strings.Contains(err.Error(), "go build ./no/such/package") {
		t.Errorf("build of a missing package: %v", err)
	}
}

func TestServerConfig(t *testing.T) {
	o := options{sluice: "bin/sluice", prism: "bin/prism"}
	s := serverConfig(o, runnerSluice, "/tmp/d")
	if s.Command != "bin/sluice" || strings.Join(s.Args, " ") != "serve --job-port=0 --data-dir=/tmp/d" {
		t.Errorf("sluice config %+v", s)
	}
	p := serverConfig(o, runnerPrism, "")
	if p.Command != "bin/prism" || !strings.Contains(strings.Join(p.Args, " "), "-job_port=0") {
		t.Errorf("prism config %+v", p)
	}
	m := p.Ready.FindStringSubmatch(`time=x level=INFO msg="Serving JobManagement" endpoint=localhost:8073`)
	if len(m) != 2 || m[1] != "localhost:8073" {
		t.Errorf("prism ready line: %q", m)
	}
}
