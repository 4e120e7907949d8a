package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// testPkg is one compiled test package of the suite.
type testPkg struct {
	short  string   // e.g. integration/primitives
	binary string   // compiled test binary
	dir    string   // package source directory; tests run there
	tests  []string // top-level tests (Test*, Example*), in file order
	err    error    // set if it could not be compiled or listed
}

func (p *testPkg) importPath() string { return beamTest + p.short }

// fileName is p.short made safe for a file name.
func (p *testPkg) fileName() string { return strings.ReplaceAll(p.short, "/", "_") }

// prepare compiles the package's test binary from the nested module, finds its
// source directory and lists its tests. Failures are recorded in p.err, so the
// report can show them as failed tests.
func prepare(ctx context.Context, c *config, short string) *testPkg {
	p := &testPkg{short: short}
	binDir := filepath.Join(c.outDir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		p.err = fmt.Errorf("create %s: %w", binDir, err)
		return p
	}
	p.binary = filepath.Join(binDir, p.fileName()+".test")
	logPath := filepath.Join(c.outDir, "logs", p.fileName()+".compile.log")
	start := time.Now()
	out, err := goCmd(ctx, c.module, "test", "-c", "-o", p.binary, p.importPath())
	_ = os.WriteFile(logPath, out, 0o644)
	if err != nil {
		p.err = fmt.Errorf("compile %s (log: %s): %w: %s", p.short, logPath, err, firstLine(out))
		return p
	}
	fmt.Printf("# compiled %s in %.1fs\n", p.short, time.Since(start).Seconds())
	out, err = goCmd(ctx, c.module, "list", "-f", "{{.Dir}}", p.importPath())
	if err != nil {
		p.err = fmt.Errorf("locate %s: %w: %s", p.short, err, firstLine(out))
		return p
	}
	p.dir = strings.TrimSpace(string(out))
	cmd := exec.CommandContext(ctx, p.binary, "-test.list", ".*")
	cmd.Dir = p.dir
	out, err = cmd.CombinedOutput()
	if err != nil {
		p.err = fmt.Errorf("list tests of %s: %w: %s", p.short, err, firstLine(out))
		return p
	}
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "Test") || strings.HasPrefix(l, "Example") {
			p.tests = append(p.tests, l)
		}
	}
	return p
}

// goCmd runs the go command in dir and returns its combined output.
func goCmd(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	if err := cmd.Run(); err != nil {
		return buf.Bytes(), fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return buf.Bytes(), nil
}

// firstLine returns the first non-empty line of b, clipped.
func firstLine(b []byte) string {
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return clip(l)
		}
	}
	return ""
}
