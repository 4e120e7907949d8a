package jobserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultReady matches the line bin/sluice prints once its Job API listens
// (slog text format, value optionally quoted). The first submatch is the
// endpoint.
var DefaultReady = regexp.MustCompile(`job_endpoint="?([^\s"]+)`)

// Config says how to start a job server.
type Config struct {
	Command string         // executable, e.g. bin/sluice
	Args    []string       // its arguments
	Dir     string         // working directory; "" means the current one
	Ready   *regexp.Regexp // matches the ready line, submatch 1 = endpoint; nil means DefaultReady
	Log     io.Writer      // receives the server's stdout and stderr; nil discards them
	// StartTimeout bounds the wait for the ready line (default 60s).
	StartTimeout time.Duration
	// Grace is how long Stop waits after SIGTERM before SIGKILL (default 10s).
	Grace time.Duration
}

// Server is a running job server process.
type Server struct {
	cmd      *exec.Cmd
	endpoint string
	grace    time.Duration
	done     chan struct{} // closed once the process has exited
	waitErr  error         // valid after done is closed
	stopOnce sync.Once
	stopErr  error
}

// Start starts the server and waits until it prints its endpoint. On error the
// process (if it started) has already been stopped.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Ready == nil {
		cfg.Ready = DefaultReady
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 60 * time.Second
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 10 * time.Second
	}
	cmd := exec.Command(cfg.Command, cfg.Args...)
	cmd.Dir = cfg.Dir
	SetGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("job server stdout: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("job server stderr: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start job server %q (build it with `make build`, or pass another server): %w", cfg.Command, err)
	}
	s := &Server{cmd: cmd, grace: cfg.Grace, done: make(chan struct{})}
	found := make(chan string, 1)
	log := &lockedWriter{w: cfg.Log}
	var wg sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scanLines(r, log, cfg.Ready, found)
		}()
	}
	go func() {
		wg.Wait()
		s.waitErr = cmd.Wait()
		close(s.done)
	}()

	timer := time.NewTimer(cfg.StartTimeout)
	defer timer.Stop()
	select {
	case ep := <-found:
		s.endpoint = normalizeEndpoint(ep)
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("job server %q exited before printing its endpoint (see its log): %w", cfg.Command, exitErr(s.waitErr))
	case <-timer.C:
		err = fmt.Errorf("job server %q printed no line matching %q within %s", cfg.Command, cfg.Ready, cfg.StartTimeout)
	case <-ctx.Done():
		err = fmt.Errorf("waiting for job server: %w", ctx.Err())
	}
	if stopErr := s.Stop(); stopErr != nil {
		err = errors.Join(err, stopErr)
	}
	return nil, err
}

// Endpoint is the server's Job API address, HOST:PORT.
func (s *Server) Endpoint() string { return s.endpoint }

// Done is closed when the server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop sends SIGTERM to the server's process group, waits up to the grace
// period, then kills the group. It returns an error if the server did not exit
// cleanly. Safe to call more than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Server) stop() error {
	select {
	case <-s.done:
		// Exited on its own; still reap anything left in its group.
		_ = KillGroup(s.cmd, syscall.SIGKILL)
		return exitErr(s.waitErr)
	default:
	}
	if err := KillGroup(s.cmd, syscall.SIGTERM); err != nil {
		return fmt.Errorf("signal job server: %w", err)
	}
	timer := time.NewTimer(s.grace)
	defer timer.Stop()
	select {
	case <-s.done:
		_ = KillGroup(s.cmd, syscall.SIGKILL)
		if termSignalled(s.waitErr) {
			return nil // no SIGTERM handler: the default action is a clean stop too
		}
		return exitErr(s.waitErr)
	case <-timer.C:
	}
	if err := KillGroup(s.cmd, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill job server: %w", err)
	}
	<-s.done
	return fmt.Errorf("job server did not exit within %s of SIGTERM and was killed", s.grace)
}

// termSignalled reports whether the process was ended by SIGTERM.
func termSignalled(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM
}

func exitErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("job server exit: %w", err)
}

// scanLines copies r to log line by line and sends the first endpoint match
// to found (without blocking: only the first match of all readers counts).
func scanLines(r io.Reader, log io.Writer, ready *regexp.Regexp, found chan<- string) {
	br := bufio.NewReader(r)
	matched := false
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			_, _ = io.WriteString(log, line)
			if !matched {
				if m := ready.FindStringSubmatch(line); len(m) > 1 {
					matched = true
					select {
					case found <- m[1]:
					default:
					}
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// normalizeEndpoint turns a listen address such as ":8099", "[::]:8099" or
// "0.0.0.0:8099" into one a client can dial.
func normalizeEndpoint(ep string) string {
	ep = strings.TrimSuffix(strings.TrimSpace(ep), ",")
	host, port, err := net.SplitHostPort(ep)
	if err != nil {
		return ep
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
