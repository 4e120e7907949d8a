// Command sluice is the Sluice CLI: `sluice serve` runs the embedded server (Beam Job API,
// Fn API and the engine in one process).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/sluice-runner/sluice/jobservice/embedded"
)

const usage = `Sluice: an Apache Beam portable runner, built like Flink inside.

Usage:
  sluice <command> [flags]

Commands:
  serve    run the embedded server: Beam Job API, Fn API and the engine in one process

Run 'sluice <command> --help' for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "sluice: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jobPort := fs.Int("job-port", 8099, "port of the Beam Job API (0 picks a free port and logs it)")
	bind := fs.String("bind", "127.0.0.1", "address the Job API listens on")
	dataDir := fs.String("data-dir", "./sluice-data", "directory for staged artifacts and state")
	stateBackend := fs.String("state-backend", embedded.StatePebble, "where tasks keep their state: pebble (a Pebble database in DATA-DIR/state) or memory")
	parallelism := fs.Int("parallelism", 0, "default subtasks per stage; 0 means the number of CPUs (a job's --parallelism overrides it)")
	statefulParallelism := fs.Int("stateful-parallelism", 0, "subtasks of a stage with user state or timers; 0 means 16 per CPU, within --parallelism and 128 (a job's --stateful_parallelism overrides it)")
	nativeGroupInline := fs.Int("native-group-inline-bytes", 0, "how many bytes of a group's values a native stage gets in the group's element; past them the values stay in the server's state and the stage reads them as it iterates (0 means 64 MiB)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "how long to wait for cancelled jobs to stop on SIGINT/SIGTERM")
	cpuProfile := fs.String("cpu-profile", "", "write a CPU profile of the server's whole life to this file")
	heapProfile := fs.String("heap-profile", "", "write a heap profile to this file when the server stops")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sluice serve [flags]\n\nRuns the embedded server until SIGINT or SIGTERM, then cancels running jobs and exits.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *stateBackend != embedded.StatePebble && *stateBackend != embedded.StateMemory {
		fmt.Fprintf(stderr, "sluice serve: bad --state-backend %q: want %s or %s\n", *stateBackend, embedded.StatePebble, embedded.StateMemory)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "sluice serve: bad --log-level %q: %v\n", *logLevel, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		log.Error("cannot create the data dir", "dir", *dataDir, "err", err)
		return 1
	}
	stopProfiles, err := startProfiles(*cpuProfile, *heapProfile)
	if err != nil {
		log.Error("cannot start profiling", "err", err)
		return 1
	}
	srv, err := embedded.Start(embedded.Config{
		JobAddr:                net.JoinHostPort(*bind, strconv.Itoa(*jobPort)),
		DataDir:                *dataDir,
		StateBackend:           *stateBackend,
		Parallelism:            *parallelism,
		StatefulParallelism:    *statefulParallelism,
		NativeGroupInlineBytes: *nativeGroupInline,
		Logger:                 log,
	})
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	log.Info("sluice ready", "job_endpoint", srv.Endpoint(), "fn_endpoint", srv.FnEndpoint(), "data_dir", *dataDir, "state_backend", *stateBackend)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	got := <-sig
	signal.Stop(sig)
	log.Info("stopping: cancelling running jobs", "signal", got.String())
	ctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(ctx)
	if perr := stopProfiles(); perr != nil {
		log.Error("writing profiles", "err", perr)
	}
	if err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}
