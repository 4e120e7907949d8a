package main

import (
	"slices"
	"testing"

	"github.com/sluice-runner/sluice/tools/conformance/jobserver"
)

func TestReadyLines(t *testing.T) {
	for _, tc := range []struct {
		cfgRunner, line, want string
	}{
		{runnerPrism, `time=2026-11-25T15:55:50.815Z level=INFO msg="Serving JobManagement" endpoint=localhost:37981`, "localhost:37981"},
		{runnerPrism, `time=now level=INFO msg="Serving JobManagement" endpoint="[::]:8073"`, "[::]:8073"},
		{runnerSluice, `time=now level=INFO msg="sluice ready" job_endpoint=127.0.0.1:41241 fn_endpoint=127.0.0.1:38331 data_dir=/tmp/x`, "127.0.0.1:41241"},
	} {
		cfg, err := serverConfig(options{sluice: "bin/sluice", prism: "bin/prism"}, tc.cfgRunner, "/tmp/d", "")
		if err != nil {
			t.Fatal(err)
		}
		m := cfg.Ready.FindStringSubmatch(tc.line)
		if len(m) < 2 || m[1] != tc.want {
			t.Errorf("%s ready regexp on %q = %q, want %q", tc.cfgRunner, tc.line, m, tc.want)
		}
	}
	if prismReady.MatchString(`level=INFO msg="Serving WebUI" endpoint=localhost:8074`) {
		t.Error("prismReady matched the web UI line")
	}
}

func TestServerConfig(t *testing.T) {
	o := options{sluice: "bin/sluice", prism: "bin/prism"}
	cfg, _ := serverConfig(o, runnerSluice, "/tmp/d", "")
	if cfg.Command != "bin/sluice" || !slices.Equal(cfg.Args, []string{"serve", "--job-port=0", "--data-dir=/tmp/d"}) || cfg.Ready != jobserver.DefaultReady {
		t.Errorf("sluice config = %+v", cfg)
	}
	cfg, _ = serverConfig(o, runnerSluice, "/tmp/d", "/out/profiles/wordcount")
	if !slices.Contains(cfg.Args, "--cpu-profile=/out/profiles/wordcount-cpu.pprof") || !slices.Contains(cfg.Args, "--heap-profile=/out/profiles/wordcount-heap.pprof") {
		t.Errorf("profiling sluice config = %+v", cfg)
	}
	cfg, _ = serverConfig(o, runnerPrism, "", "")
	if cfg.Command != "bin/prism" || !slices.Contains(cfg.Args, "-job_port=0") || !slices.Contains(cfg.Args, "-log_kind=text") {
		t.Errorf("prism config = %+v", cfg)
	}
	if _, err := serverConfig(o, runnerDirect, "", ""); err == nil {
		t.Error("serverConfig gave the direct runner a server")
	}
}
