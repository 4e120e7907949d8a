package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-runner/sluice/tools/conformance/jobserver"
)

// runPipeline runs the pipeline binary against endpoint in its own process
// group, its output going to pipeline.log next to the output file. The group
// is killed on timeout or when ctx is cancelled.
func runPipeline(ctx context.Context, c *config, endpoint string) error {
	logPath := filepath.Join(filepath.Dir(c.output), "pipeline.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("create pipeline log: %w", err)
	}
	defer logFile.Close()
	args := []string{
		"--runner=universal", "--endpoint=" + endpoint, "--environment_type=LOOPBACK",
		"--input=" + c.input, "--output=" + c.output,
	}
	fmt.Printf("running %s %s\n", c.pipeline, strings.Join(args, " "))
	cmd := exec.Command(c.pipeline, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	jobserver.SetGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start pipeline (build it with `go build -o bin/wordcount ./testdata/wordcount`): %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		_ = jobserver.KillGroup(cmd, syscall.SIGKILL)
		<-done
		err = fmt.Errorf("no result after %s, killed", c.timeout)
	case <-ctx.Done():
		_ = jobserver.KillGroup(cmd, syscall.SIGKILL)
		<-done
		err = ctx.Err()
	}
	_ = jobserver.KillGroup(cmd, syscall.SIGKILL)
	if err != nil {
		return fmt.Errorf("pipeline failed: %w; last lines of %s:\n%s", err, logPath, tail(logPath, 15))
	}
	return nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
