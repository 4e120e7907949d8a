package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sluice-runner/sluice/tools/conformance/jobserver"
)

// killSlack is how long after -test.timeout a test process is killed.
const killSlack = 30 * time.Second

// outcome is how one top-level test process ended.
type outcome struct {
	rawLog   string        // the process's combined output (-test.v=test2json)
	exitCode int           // -1 if killed or not started
	killed   bool          // hard-killed after timeout+killSlack
	wall     time.Duration // process wall time
	startErr error         // the process could not be started
}

// runTest runs one top-level test of p in its own process group, in p's
// source directory, and kills the group once the test's timeout plus
// killSlack has passed or ctx is cancelled.
func runTest(ctx context.Context, c *config, p *testPkg, test, endpoint string) outcome {
	o := outcome{exitCode: -1, rawLog: filepath.Join(c.outDir, "logs", p.fileName()+"."+test+".log")}
	args := []string{
		"-test.v=test2json", "-test.paniconexit0", "-test.count=1",
		"-test.timeout", c.timeout.String(), "-test.run", "^" + test + "$",
		"-runner=" + c.runner, "-environment_type=" + c.envType, "-endpoint=" + endpoint,
	}
	args = append(args, c.extraArgs...)
	logFile, err := os.Create(o.rawLog)
	if err != nil {
		o.startErr = fmt.Errorf("create test log: %w", err)
		return o
	}
	defer logFile.Close()
	cmd := exec.Command(p.binary, args...)
	cmd.Dir = p.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	jobserver.SetGroup(cmd)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		o.startErr = fmt.Errorf("start %s: %w", p.binary, err)
		return o
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	hard := time.NewTimer(c.timeout + killSlack)
	defer hard.Stop()
	var waitErr error
	select {
	case waitErr = <-done:
	case <-hard.C:
		o.killed = true
		_ = jobserver.KillGroup(cmd, syscall.SIGKILL)
		waitErr = <-done
	case <-ctx.Done():
		_ = jobserver.KillGroup(cmd, syscall.SIGKILL)
		waitErr = <-done
	}
	// Reap anything the test left behind in its group (e.g. workers).
	_ = jobserver.KillGroup(cmd, syscall.SIGKILL)
	o.wall = time.Since(start)
	var ee *exec.ExitError
	switch {
	case waitErr == nil:
		o.exitCode = 0
	case errors.As(waitErr, &ee) && ee.Exited():
		o.exitCode = ee.ExitCode()
	}
	return o
}
