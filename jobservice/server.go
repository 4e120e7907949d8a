package jobservice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
)

// Executor plans and runs jobs. Validate is called at Prepare; a non-nil
// error refuses the job with codes.InvalidArgument carrying the error text
// (it should name the transform and the problem).
type Executor interface {
	Validate(p *pipepb.Pipeline, options *structpb.Struct) error
	// Execute blocks until the job ends; ctx is cancelled by Cancel or
	// server shutdown. A nil return is DONE (DRAINED after a drain), an
	// error is FAILED.
	Execute(ctx context.Context, run *Run) error
}

// DefaultMaxMessages is the default per-job cap on retained job messages.
const DefaultMaxMessages = 10000

// Config configures a Server.
type Config struct {
	// DataDir holds staged artifacts (DataDir/artifacts). Required.
	DataDir string
	// Executor runs jobs. Required.
	Executor Executor
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Store keeps job records; defaults to a new MemStore.
	Store Store
	// MaxMessages caps the messages kept per job (oldest dropped first);
	// state changes are always kept. Defaults to DefaultMaxMessages.
	MaxMessages int
	// PipelineOptions is what DescribePipelineOptions returns; defaults to
	// DefaultPipelineOptions().
	PipelineOptions []*jobpb.PipelineOptionDescriptor
}

// errStopping ends streams when the server shuts down.
var errStopping = status.Error(codes.Unavailable, "job server is shutting down")

// Server implements the Beam Job API and artifact staging. Create it with
// New, mount it with Register, and stop it with Shutdown.
type Server struct {
	cfg       Config
	log       *slog.Logger
	store     Store
	artifacts *artifactStore
	retrieval *ArtifactRetrieval
	baseCtx   context.Context
	stopAll   context.CancelFunc
	stopping  chan struct{} // closed once Shutdown has seen every job end
	stopOnce  sync.Once
	// lifeMu guards closed and s.wg.Add; it may be taken while holding a
	// job's mutex (lock order: mu → job.mu → lifeMu).
	lifeMu sync.Mutex
	closed bool
	wg     sync.WaitGroup // Execute goroutines

	mu       sync.Mutex
	jobs     map[string]*job
	prepared map[string]*job // job name → latest job prepared under it
	seq      uint64
	endpoint string
}

// New returns a Server that stores artifacts under cfg.DataDir.
func New(cfg Config) (*Server, error) {
	if cfg.Executor == nil {
		return nil, errors.New("jobservice: Config.Executor is required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("jobservice: Config.DataDir is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Store == nil {
		cfg.Store = NewMemStore()
	}
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = DefaultMaxMessages
	}
	if cfg.PipelineOptions == nil {
		cfg.PipelineOptions = DefaultPipelineOptions()
	}
	arts, err := newArtifactStore(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("jobservice: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := cfg.Logger.With(slog.String("component", "jobservice"))
	return &Server{
		cfg:       cfg,
		log:       log,
		store:     cfg.Store,
		artifacts: arts,
		retrieval: &ArtifactRetrieval{root: arts.dir, log: log},
		baseCtx:   ctx,
		stopAll:   cancel,
		stopping:  make(chan struct{}),
		jobs:      map[string]*job{},
		prepared:  map[string]*job{},
	}, nil
}

// Register mounts the JobService and the ArtifactStagingService on g.
func (s *Server) Register(g grpc.ServiceRegistrar) {
	jobpb.RegisterJobServiceServer(g, &jobAPI{s: s})
	jobpb.RegisterArtifactStagingServiceServer(g, &stagingAPI{s: s})
}

// SetEndpoint sets the host:port Prepare returns as the artifact staging
// endpoint (normally the job port itself).
func (s *Server) SetEndpoint(hostPort string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpoint = hostPort
}

// Retrieval returns the ArtifactRetrievalService that serves staged
// artifacts to workers.
func (s *Server) Retrieval() *ArtifactRetrieval { return s.retrieval }

// Shutdown refuses new work, cancels running jobs and waits until every
// Execute has returned or ctx ends. Open streams end with Unavailable.
func (s *Server) Shutdown(ctx context.Context) error {
	s.lifeMu.Lock()
	first := !s.closed
	s.closed = true
	s.lifeMu.Unlock()
	s.mu.Lock()
	running := make([]*job, 0, len(s.jobs))
	for _, j := range s.jobs {
		running = append(running, j)
	}
	s.mu.Unlock()
	if first {
		for _, j := range running {
			j.mu.Lock()
			if j.cancel != nil && !isTerminal(j.rec.State) {
				if j.cancelWhy == "" {
					j.cancelWhy = "job server is shutting down"
				}
				j.setStateLocked(jobpb.JobState_CANCELLING)
			}
			j.mu.Unlock()
		}
		s.stopAll()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.stopOnce.Do(func() { close(s.stopping) })
		s.log.Info("job server stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobservice: shutdown gave up waiting for running jobs: %w", ctx.Err())
	}
}

// lookup finds a live job by id (which is also its preparation id and
// staging token).
func (s *Server) lookup(id string) (*job, error) {
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "no job id given")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if j, ok := s.jobs[id]; ok {
		return j, nil
	}
	return nil, status.Errorf(codes.NotFound, "job %q not found", id)
}

// isClosed reports whether Shutdown was called.
func (s *Server) isClosed() bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.closed
}

// startLocked launches Execute for j in a goroutine owned by the server. It
// is called with j.mu held, before j moves to STARTING.
func (s *Server) startLocked(j *job, run *Run) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return status.Error(codes.Unavailable, "job server is shutting down; not starting new jobs")
	}
	ctx, cancel := context.WithCancel(s.baseCtx)
	j.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		err := s.execute(ctx, run)
		j.finish(err, ctx.Err() != nil)
		j.runAfterEnd()
	}()
	return nil
}

// execute runs the executor, turning a panic into a job failure so one bad
// job cannot take the server down.
func (s *Server) execute(ctx context.Context, run *Run) (err error) {
	defer func() {
		if r := recover(); r != nil {
			run.job.log.Error("executor panicked", slog.Any("panic", r))
			err = fmt.Errorf("executor panicked: %v", r)
		}
	}()
	return s.cfg.Executor.Execute(ctx, run)
}

var (
	_ jobpb.JobServiceServer               = (*jobAPI)(nil)
	_ jobpb.ArtifactStagingServiceServer   = (*stagingAPI)(nil)
	_ jobpb.ArtifactRetrievalServiceServer = (*ArtifactRetrieval)(nil)
)
