// Package embedded assembles the embedded Sluice server: the Beam Job API, the artifact
// services, the Fn API server for SDK workers and the in-process engine, in one process.
// `sluice serve` and end-to-end tests both start it through Start.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sluice-runner/sluice/fnharness"
	"github.com/sluice-runner/sluice/jobservice"
	"github.com/sluice-runner/sluice/runner/jobmanager"
	"github.com/sluice-runner/sluice/runner/metrics"
	"github.com/sluice-runner/sluice/state"
)

// State backends (Config.StateBackend).
const (
	// StatePebble keeps task state in one Pebble database under DataDir/state.
	StatePebble = "pebble"
	// StateMemory keeps task state in memory.
	StateMemory = "memory"
)

// Config configures the embedded server.
type Config struct {
	// JobAddr is the Job API listen address, e.g. "127.0.0.1:8099" or "127.0.0.1:0".
	JobAddr string
	// DataDir holds artifacts (DataDir/artifacts) and state (DataDir/state).
	DataDir string
	// StateBackend is where tasks keep their state: StatePebble (the default when empty)
	// or StateMemory.
	StateBackend string
	// Parallelism is the default subtasks per stage (0: number of CPUs).
	Parallelism int
	// StatefulParallelism is the subtasks of a stage with user state or timers (0: see
	// plan.Options.StatefulParallelism).
	StatefulParallelism int
	// NativeGroupInlineBytes is how much of a group a native stage gets in its element
	// before reading the rest from runner state (0: jobmanager.NativeGroupInlineBytes).
	NativeGroupInlineBytes int
	Logger                 *slog.Logger
}

// Server is a running embedded server.
type Server struct {
	jobs    *jobservice.Server
	fn      *fnharness.Server
	grpc    *grpc.Server
	lis     net.Listener
	log     *slog.Logger
	state   *state.PebbleDB // nil with StateMemory
	serveWG sync.WaitGroup
}

// Start starts every service and returns once the Job API accepts connections.
func Start(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	switch cfg.StateBackend {
	case "", StatePebble, StateMemory:
	default:
		return nil, fmt.Errorf("unknown state backend %q (have %s and %s)", cfg.StateBackend, StatePebble, StateMemory)
	}
	engine := &jobmanager.Engine{Logger: log, Parallelism: cfg.Parallelism, StatefulParallelism: cfg.StatefulParallelism,
		NativeGroupInlineBytes: cfg.NativeGroupInlineBytes}
	exec := executor{engine: engine}
	jobs, err := jobservice.New(jobservice.Config{DataDir: cfg.DataDir, Executor: &exec, Logger: log})
	if err != nil {
		return nil, err
	}
	var db *state.PebbleDB
	if cfg.StateBackend != StateMemory {
		if db, err = openState(filepath.Join(cfg.DataDir, "state"), log); err != nil {
			return nil, err
		}
		engine.State = db
	}
	closeState := func() {
		if db != nil {
			if err := db.Close(); err != nil {
				log.Error("closing the state database", "err", err)
			}
		}
	}
	fn := fnharness.NewServer(fnharness.ServerConfig{Logger: log, ExtraServices: jobs.Retrieval().Register})
	if err := fn.Start(); err != nil {
		closeState()
		return nil, err
	}
	engine.Fn = fn
	lis, err := net.Listen("tcp", cfg.JobAddr)
	if err != nil {
		fn.Stop()
		closeState()
		return nil, fmt.Errorf("listening for the Job API on %s: %w", cfg.JobAddr, err)
	}
	s := &Server{
		jobs:  jobs,
		fn:    fn,
		grpc:  grpc.NewServer(fnharness.ServerOptions()...),
		lis:   lis,
		log:   log,
		state: db,
	}
	jobs.Register(s.grpc)
	// LOOPBACK native harnesses know the job endpoint only (see codegen/native).
	fn.RegisterNativeServices(s.grpc)
	jobs.SetEndpoint(s.Endpoint())
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			log.Error("Job API server stopped", "err", err)
		}
	}()
	return s, nil
}

// openState opens the state database in dir and drops what an earlier process left there:
// no job outlives its server yet (there are no checkpoints to restore from), and job ids
// start again at every start, so a new job must not see an old one's state.
func openState(dir string, log *slog.Logger) (*state.PebbleDB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the state directory: %w", err)
	}
	db, err := state.OpenPebble(dir, state.PebbleOptions{Logger: log})
	if err != nil {
		return nil, err
	}
	if err := db.DropAll(); err != nil {
		return nil, errors.Join(fmt.Errorf("clearing the state database in %s: %w", dir, err), db.Close())
	}
	return db, nil
}

// Endpoint is the Job API's host:port.
func (s *Server) Endpoint() string { return s.lis.Addr().String() }

// FnEndpoint is the Fn API's host:port.
func (s *Server) FnEndpoint() string { return s.fn.Endpoint() }

// Shutdown cancels running jobs, waits for them, and stops every service.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.jobs.Shutdown(ctx)
	s.grpc.Stop()
	s.fn.Stop()
	s.serveWG.Wait()
	if s.state != nil {
		if serr := s.state.Close(); serr != nil {
			err = errors.Join(err, fmt.Errorf("closing the state database: %w", serr))
		}
	}
	return err
}

// executor adapts the engine to the job service.
type executor struct {
	engine *jobmanager.Engine
}

func (e *executor) Validate(p *pipepb.Pipeline, opts *structpb.Struct) error {
	return e.engine.Validate(p, opts)
}

func (e *executor) Execute(ctx context.Context, run *jobservice.Run) error {
	agg := metrics.NewAggregator()
	run.SetMetrics(func() (attempted, committed []*pipepb.MonitoringInfo) {
		snap := agg.Snapshot()
		return snap, snap
	})
	return e.engine.Execute(ctx, jobmanager.Job{
		ID:             run.JobID,
		Name:           run.JobName,
		Pipeline:       run.Pipeline,
		Options:        run.Options,
		RetrievalToken: run.RetrievalToken,
		Message: func(level slog.Level, text string) {
			run.Message(importance(level), text)
		},
		Running:  run.SetRunning,
		AfterEnd: run.AfterEnd,
		OnDrain:  run.OnDrain,
		Metrics:  agg,
	})
}

func importance(l slog.Level) jobpb.JobMessage_MessageImportance {
	switch {
	case l >= slog.LevelError:
		return jobpb.JobMessage_JOB_MESSAGE_ERROR
	case l >= slog.LevelWarn:
		return jobpb.JobMessage_JOB_MESSAGE_WARNING
	case l >= slog.LevelInfo:
		return jobpb.JobMessage_JOB_MESSAGE_BASIC
	default:
		return jobpb.JobMessage_JOB_MESSAGE_DEBUG
	}
}
