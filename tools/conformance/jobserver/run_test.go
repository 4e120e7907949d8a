package jobserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunKillsTheGroup(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "run.log")

	o := Run(context.Background(), "/bin/sh", []string{"-c", "echo hello"}, log, 10*time.Second)
	if o.Err != nil || o.TimedOut {
		t.Errorf("clean run: %+v", o)
	}
	if b, _ := os.ReadFile(log); !strings.Contains(string(b), "hello") {
		t.Errorf("log %q lacks the output", b)
	}

	if o := Run(context.Background(), "/bin/sh", []string{"-c", "exit 3"}, log, 10*time.Second); o.Err == nil || o.TimedOut {
		t.Errorf("exit 3: %+v", o)
	}

	// The child of the shell is in the group too: the kill must not wait for its sleep.
	start := time.Now()
	o = Run(context.Background(), "/bin/sh", []string{"-c", "sleep 60 & wait"}, log, 300*time.Millisecond)
	if !o.TimedOut || o.Err == nil {
		t.Errorf("timeout: %+v", o)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("timed-out run took %s to end", d)
	}
}
