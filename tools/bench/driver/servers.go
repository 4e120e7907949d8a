package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/sluice-runner/sluice/tools/conformance/jobserver"
)

// prismReady matches the line prism logs (with -log_kind=text) once its Job API listens,
// e.g. `level=INFO msg="Serving JobManagement" endpoint=localhost:8073`.
var prismReady = regexp.MustCompile(`Serving JobManagement.*endpoint="?([^\s"]+)`)

// server is a running Sluice or prism job server.
type server struct {
	*jobserver.Server
	pid    int   // 0 if it could not be found; then no peak RSS
	pidErr error // why pid is 0
	log    *os.File
}

// serverConfig says how to start the job server of runner (sluice or prism) for one
// workload. Sluice gets a fresh data directory and, when profile is not empty, writes
// CPU and heap profiles to profile+"-cpu.pprof" and profile+"-heap.pprof".
func serverConfig(o options, runner, dataDir, profile string) (jobserver.Config, error) {
	cfg := jobserver.Config{StartTimeout: 60 * time.Second, Grace: 15 * time.Second}
	switch runner {
	case runnerSluice:
		cfg.Command = o.sluice
		cfg.Args = []string{"serve", "--job-port=0", "--data-dir=" + dataDir}
		if profile != "" {
			cfg.Args = append(cfg.Args, "--cpu-profile="+profile+"-cpu.pprof", "--heap-profile="+profile+"-heap.pprof")
		}
		cfg.Ready = jobserver.DefaultReady
	case runnerPrism:
		cfg.Command = o.prism
		// No web UI: its fixed port could clash with another prism on the machine.
		cfg.Args = []string{"-job_port=0", "-log_kind=text", "-serve_http=false"}
		cfg.Ready = prismReady
	default:
		return cfg, fmt.Errorf("runner %q has no server", runner)
	}
	return cfg, nil
}

// startServer starts a fresh server for runner, logging to OUT/logs/WORKLOAD-RUNNER-server.log.
func startServer(ctx context.Context, e *env, runner, workload string) (*server, error) {
	data := ""
	if runner == runnerSluice {
		data = filepath.Join(e.dir("data"), workload)
		if err := os.RemoveAll(data); err != nil {
			return nil, err
		}
	}
	profile := ""
	if runner == runnerSluice && e.opts.profile {
		profile = filepath.Join(e.dir("profiles"), workload)
	}
	cfg, err := serverConfig(e.opts, runner, data, profile)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(e.dir("logs"), workload+"-"+runner+"-server.log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cfg.Log = f
	srv, err := jobserver.Start(ctx, cfg)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (log: %s)", err, logPath)
	}
	s := &server{Server: srv, log: f}
	s.pid, s.pidErr = findChild(cfg.Command)
	return s, nil
}

// peakRSS returns the server's VmHWM in KiB.
func (s *server) peakRSS() (int64, error) {
	if s.pid == 0 {
		return 0, s.pidErr
	}
	return peakRSSKiB(s.pid)
}

// stop stops the server and closes its log.
func (s *server) stop() error {
	err := s.Stop()
	s.log.Close()
	return err
}
