package capture

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// HookImportPath is the package the overlay file imports for its init.
const HookImportPath = "github.com/sluice-runner/sluice/codegen/capture/hook"

// OverlayFileName is the file the overlay adds to the user's package directory. It exists
// only in the build's overlay, never on disk in the package.
const OverlayFileName = "zz_sluicecapture.go"

// DefaultTimeout bounds a capture (build and run) when Options.Timeout is zero. A cold
// build of a Beam program compiles the whole SDK, so it is generous.
const DefaultTimeout = 5 * time.Minute

// Options say which program to capture and how.
type Options struct {
	// Dir is the directory of the program's main package (default: the working directory).
	Dir string
	// Package is the package name ($GOPACKAGE under go generate). Empty: asked of go list.
	Package string
	// Args are the program's own flags (for example --input=...), passed after
	// --runner=sluicecapture by Run. They may not set --runner.
	Args []string
	// BuildFlags are extra go build flags (for example -tags=foo).
	BuildFlags []string
	// Timeout bounds Run (build and run together), Build, and each Program.Capture
	// (0: DefaultTimeout).
	Timeout time.Duration
	// GoCmd is the go command (default "go" from $PATH; go generate puts $GOROOT/bin first).
	GoCmd string
}

// Run captures the pipeline of the main package in opts.Dir without changing its code: it
// builds the package with an overlay that adds one file importing package hook (which
// registers the sluicecapture runner), runs the binary with --runner=sluicecapture and the
// program's flags, and reads back the capture file. Temporary files are removed.
//
// This is `go run -overlay=...` in two steps (Build, then Program.Capture), so that the
// timeout stops the program itself rather than only the go command, so that a build
// failure and a run failure are told apart, and so that one build can be captured with
// several sets of flags.
func Run(ctx context.Context, opts Options) (*Capture, error) {
	if err := checkArgs(opts.Args); err != nil {
		return nil, err
	}
	timeout := opts.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p, err := Build(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.Capture(ctx, opts.Args)
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

// Program is a main package built with the capture overlay. Close removes it.
type Program struct {
	dir, tmp, bin string
	timeout       time.Duration
}

// Build builds the main package in opts.Dir with the capture overlay (opts.Args is not
// used). It is bounded by opts.Timeout.
func Build(ctx context.Context, opts Options) (*Program, error) {
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, OverlayFileName)); err == nil {
		return nil, fmt.Errorf("%s exists in %s: remove it, sluicegen adds a file of that name to the build", OverlayFileName, dir)
	}
	timeout := opts.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	goCmd := opts.GoCmd
	if goCmd == "" {
		goCmd = "go"
	}

	pkg := opts.Package
	if pkg == "" {
		out, err := command(ctx, dir, nil, goCmd, "list", "-f", "{{.Name}}", ".")
		if err != nil {
			return nil, explain(ctx, timeout, fmt.Errorf("go list in %s: %w", dir, err), out)
		}
		pkg = strings.TrimSpace(string(out))
	}
	if pkg != "main" {
		return nil, fmt.Errorf("%s holds package %s: sluicegen captures a pipeline by running its program, so it must run in a main package", dir, pkg)
	}

	tmp, err := os.MkdirTemp("", "sluicecapture-")
	if err != nil {
		return nil, err
	}
	p := &Program{dir: dir, tmp: tmp, bin: filepath.Join(tmp, "pipeline"), timeout: timeout}
	if runtime.GOOS == "windows" {
		p.bin += ".exe"
	}
	if err := p.build(ctx, goCmd, pkg, opts.BuildFlags); err != nil {
		p.Close()
		return nil, explain(ctx, timeout, err, nil)
	}
	return p, nil
}

// GeneratedSuffix ends the name of the file sluicegen writes into a package.
const GeneratedSuffix = "_sluice.go"

func (p *Program) build(ctx context.Context, goCmd, pkg string, buildFlags []string) error {
	hookFile := filepath.Join(p.tmp, "hook.go")
	if err := os.WriteFile(hookFile, []byte(OverlaySource(pkg)), 0o644); err != nil {
		return err
	}
	replace := map[string]string{filepath.Join(p.dir, OverlayFileName): hookFile}
	// An earlier generated file is left out: it may not compile against the changed
	// pipeline it is regenerated for, and the capture does not need its chains.
	generated, err := filepath.Glob(filepath.Join(p.dir, "*"+GeneratedSuffix))
	if err != nil {
		return err
	}
	for _, f := range generated {
		replace[f] = ""
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": replace})
	if err != nil {
		return err
	}
	overlayFile := filepath.Join(p.tmp, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return err
	}
	args := append([]string{"build", "-overlay=" + overlayFile, "-o", p.bin}, buildFlags...)
	args = append(args, ".")
	if out, err := command(ctx, p.dir, nil, goCmd, args...); err != nil {
		return explain(ctx, 0, fmt.Errorf("building %s with the capture overlay: %w", p.dir, err), out)
	}
	return nil
}

// Capture runs the program with --runner=sluicecapture and args (its own flags, which may
// not set --runner) in its package directory, and returns what it captured. Each call is a
// fresh process.
func (p *Program) Capture(ctx context.Context, args []string) (*Capture, error) {
	if err := checkArgs(args); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	out, err := os.MkdirTemp(p.tmp, "run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	capFile := filepath.Join(out, "capture.json")
	runArgs := append([]string{"--runner=" + RunnerName}, args...)
	log, err := command(ctx, p.dir, []string{EnvOut + "=" + capFile}, p.bin, runArgs...)
	if err != nil {
		return nil, explain(ctx, p.timeout, fmt.Errorf("running the program with %s: %w", strings.Join(runArgs, " "), err), log)
	}
	if _, statErr := os.Stat(capFile); statErr != nil {
		return nil, explain(ctx, p.timeout, errors.New("the program exited without handing its pipeline to the capture runner: "+
			"its main must run the pipeline with beamx.Run (or beam.Run with the runner named by the --runner flag)"), log)
	}
	return ReadFile(capFile)
}

// checkArgs refuses pipeline flags that would override the capture runner.
func checkArgs(args []string) error {
	for _, a := range args {
		if a == "--runner" || a == "-runner" || strings.HasPrefix(a, "--runner=") || strings.HasPrefix(a, "-runner=") {
			return fmt.Errorf("the pipeline flags set --runner (%q): capture sets it to %s itself", a, RunnerName)
		}
	}
	return nil
}

// Close removes the built program.
func (p *Program) Close() error {
	return os.RemoveAll(p.tmp)
}

// OverlaySource is the file the overlay adds to the user's package pkg.
func OverlaySource(pkg string) string {
	return "// Code generated by sluicegen for capture. DO NOT EDIT.\n" +
		"// This file exists only in a build overlay; it registers the " + RunnerName + " runner.\n\n" +
		"package " + pkg + "\n\n" +
		"import _ \"" + HookImportPath + "\"\n"
}

// command runs name args in dir with extra environment, returning the tail of its combined
// output.
func command(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out := &tailBuffer{max: 16 << 10}
	cmd.Stdout = out
	cmd.Stderr = out
	// If the program leaves children holding its output open, stop waiting for them.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

// explain adds the program's output, and says so when the timeout was the cause.
func explain(ctx context.Context, timeout time.Duration, err error, out []byte) error {
	if timeout > 0 && ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%w (the capture timed out after %v; raise --timeout if the build is slow)", err, timeout)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		err = fmt.Errorf("%w\n%s", err, indent(s))
	}
	return err
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max     int
	buf     bytes.Buffer
	dropped bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if extra := t.buf.Len() - t.max; extra > 0 {
		t.buf.Next(extra)
		t.dropped = true
	}
	return len(p), nil
}

func (t *tailBuffer) Bytes() []byte {
	if t.dropped {
		return append([]byte("...\n"), t.buf.Bytes()...)
	}
	return t.buf.Bytes()
}
