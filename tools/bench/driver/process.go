package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/sluice-runner/sluice/tools/conformance/jobserver"
)

// outcome is what one pipeline process did.
type outcome struct {
	wall     time.Duration
	maxRSSKB int64 // rusage MaxRSS of the pipeline process, KiB; 0 if unknown
	exitCode int   // -1 if it did not exit normally
	timedOut bool
	err      error // nil only for a clean exit 0
}

// runProcess runs bin with args in a process group of its own, output to logPath, and kills
// the whole group when it exceeds timeout or ctx ends. The wall time covers start to exit.
func runProcess(ctx context.Context, bin string, args []string, logPath string, timeout time.Duration) outcome {
	logf, err := os.Create(logPath)
	if err != nil {
		return outcome{exitCode: -1, err: fmt.Errorf("create log: %w", err)}
	}
	defer logf.Close()
	fmt.Fprintf(logf, "# %s %q\n", bin, args)

	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, bin, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	jobserver.SetGroup(cmd)
	cmd.Cancel = func() error { return jobserver.KillGroup(cmd, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second

	start := time.Now()
	runErr := cmd.Run()
	o := outcome{wall: time.Since(start), exitCode: -1}
	// Anything the pipeline left behind in its group goes too.
	_ = jobserver.KillGroup(cmd, syscall.SIGKILL)

	if ps := cmd.ProcessState; ps != nil {
		o.exitCode = ps.ExitCode()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			o.maxRSSKB = maxRSSKiB(ru)
		}
	}
	switch {
	case errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		o.timedOut = true
		o.err = fmt.Errorf("timed out after %s and was killed", timeout)
	case ctx.Err() != nil:
		o.err = fmt.Errorf("interrupted: %w", ctx.Err())
	case runErr != nil:
		o.err = runErr
	}
	return o
}
