package jobserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Outcome is what one process run by Run did.
type Outcome struct {
	Wall     time.Duration // from start to exit
	ExitCode int           // -1 if it did not exit normally
	TimedOut bool
	Err      error // nil only for a clean exit 0
	// State is the process's state after it exited (resource usage included), nil if it
	// did not start.
	State *os.ProcessState
}

// Run runs bin with args in a process group of its own, its output appended to a new file
// at logPath, and kills the whole group when it exceeds timeout or ctx ends, and again once
// it has exited: a pipeline's SDK workers and anything else it started go with it. Drivers
// (bench, modelcheck) run their pipeline programs with it.
func Run(ctx context.Context, bin string, args []string, logPath string, timeout time.Duration) Outcome {
	logf, err := os.Create(logPath)
	if err != nil {
		return Outcome{ExitCode: -1, Err: fmt.Errorf("create log: %w", err)}
	}
	defer logf.Close()
	fmt.Fprintf(logf, "# %s %q\n", bin, args)

	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, bin, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	SetGroup(cmd)
	cmd.Cancel = func() error { return KillGroup(cmd, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second

	start := time.Now()
	runErr := cmd.Run()
	o := Outcome{Wall: time.Since(start), ExitCode: -1, State: cmd.ProcessState}
	// Anything the process left behind in its group goes too.
	_ = KillGroup(cmd, syscall.SIGKILL)
	if o.State != nil {
		o.ExitCode = o.State.ExitCode()
	}
	switch {
	case errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		o.TimedOut = true
		o.Err = fmt.Errorf("timed out after %s and was killed", timeout)
	case ctx.Err() != nil:
		o.Err = fmt.Errorf("interrupted: %w", ctx.Err())
	case runErr != nil:
		o.Err = runErr
	}
	return o
}
