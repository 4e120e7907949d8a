package jobserver

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a fake job server when helperEnv is set.
const helperEnv = "JOBSERVER_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "serve":
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		fmt.Fprintln(os.Stderr, `time=now level=INFO msg="job service ready" job_endpoint=[::]:4321`)
		<-term
		os.Exit(0)
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Fprintln(os.Stderr, "job_endpoint=127.0.0.1:5555")
		time.Sleep(time.Minute)
	case "die":
		fmt.Fprintln(os.Stderr, "cannot listen")
		os.Exit(3)
	}
}

func helper(t *testing.T, mode string) Config {
	t.Setenv(helperEnv, mode)
	var log strings.Builder
	return Config{Command: os.Args[0], Log: &lockedWriter{w: &log}, StartTimeout: 20 * time.Second, Grace: 5 * time.Second}
}

func TestStartStop(t *testing.T) {
	srv, err := Start(context.Background(), helper(t, "serve"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := srv.Endpoint(), "127.0.0.1:4321"; got != want {
		t.Errorf("Endpoint() = %q, want %q", got, want)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("Stop() = %v, want a clean exit", err)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop() = %v", err)
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	cfg := helper(t, "ignore-term")
	cfg.Grace = 300 * time.Millisecond
	srv, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := srv.Stop(); err == nil {
		t.Error("Stop() = nil, want an error saying the server was killed")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Stop took %s", d)
	}
	select {
	case <-srv.Done():
	default:
		t.Error("server still running after Stop")
	}
}

func TestStartReportsEarlyExit(t *testing.T) {
	if _, err := Start(context.Background(), helper(t, "die")); err == nil {
		t.Fatal("Start succeeded although the server exited")
	}
}
