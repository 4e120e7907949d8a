package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/codegen/gen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// staleError is --check's verdict: the file is missing or out of date.
type staleError struct{ msg string }

func (e *staleError) Error() string { return e.msg }

// run is the command; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluicegen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".", "directory of the pipeline's main package (go generate runs in it)")
	out := fs.String("out", "", "file to write (default <directory name>_sluice.go in --dir)")
	check := fs.Bool("check", false, "write nothing; exit 1 if the file is missing or would change")
	timeout := fs.Duration("timeout", capture.DefaultTimeout, "bound on building and running the program")
	tags := fs.String("tags", "", "build tags for the program")
	fromCapture := fs.String("capture", "", "generate from this capture file instead of running the program")
	saveCapture := fs.String("save-capture", "", "also write the capture to this file")
	verbose := fs.Bool("v", false, "print the planned stages to stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sluicegen [flags] [-- pipeline flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	pipelineArgs := fs.Args()
	if len(pipelineArgs) > 0 && !dashDashBefore(args, len(pipelineArgs)) {
		fmt.Fprintf(stderr, "sluicegen: unexpected argument %q: pass the pipeline's flags after --\n", pipelineArgs[0])
		return 2
	}
	if err := generate(ctx, config{
		dir: *dir, out: *out, check: *check, timeout: *timeout, tags: *tags,
		fromCapture: *fromCapture, saveCapture: *saveCapture, verbose: *verbose,
		args: pipelineArgs,
	}, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "sluicegen:", err)
		var stale *staleError
		if errors.As(err, &stale) {
			return 1
		}
		return 2
	}
	return 0
}

// dashDashBefore reports whether the last n arguments follow a "--".
func dashDashBefore(args []string, n int) bool {
	i := len(args) - n - 1
	return i >= 0 && args[i] == "--"
}

type config struct {
	dir, out                 string
	check, verbose           bool
	timeout                  time.Duration
	tags                     string
	fromCapture, saveCapture string
	args                     []string
}

func generate(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	dir, err := filepath.Abs(cfg.dir)
	if err != nil {
		return err
	}
	out := cfg.out
	if out == "" {
		out = filepath.Join(dir, filepath.Base(dir)+capture.GeneratedSuffix)
	}
	pkg := ""
	if cfg.dir == "." {
		pkg = os.Getenv("GOPACKAGE") // set by go generate, for the working directory
	}
	variants := splitVariants(cfg.args)
	if len(variants) > 1 && (cfg.fromCapture != "" || cfg.saveCapture != "") {
		return errors.New("--capture and --save-capture take one pipeline; pass one flag set after --")
	}
	var vs []gen.Variant
	if cfg.fromCapture != "" {
		c, err := capture.ReadFile(cfg.fromCapture)
		if err != nil {
			return err
		}
		a, err := gen.Analyze(c)
		if err != nil {
			return err
		}
		vs = append(vs, gen.Variant{Analysis: a, Args: cfg.args})
	} else {
		opts := capture.Options{Dir: dir, Package: pkg, Timeout: cfg.timeout}
		if cfg.tags != "" {
			opts.BuildFlags = []string{"-tags=" + cfg.tags}
		}
		if vs, err = captureVariants(ctx, opts, variants, cfg.saveCapture); err != nil {
			return err
		}
	}
	if cfg.verbose {
		for _, v := range vs {
			fmt.Fprint(stderr, v.Analysis.Summary())
		}
	}
	if pkg == "" {
		pkg = "main"
	}
	src, err := gen.GenerateVariants(vs, gen.Options{Package: pkg})
	if err != nil {
		return err
	}
	old, err := os.ReadFile(out)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	show := out
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, out); err == nil && !strings.HasPrefix(rel, "..") {
			show = rel
		}
	}
	if bytes.Equal(old, src) {
		if !cfg.check {
			fmt.Fprintf(stdout, "sluicegen: %s is up to date (%s)\n", show, variantsText(vs))
		}
		return nil
	}
	if cfg.check {
		if old == nil {
			return &staleError{show + " is missing; run go generate"}
		}
		return &staleError{show + " does not match the pipeline; run go generate"}
	}
	if err := os.WriteFile(out, src, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sluicegen: wrote %s (%s)\n", show, variantsText(vs))
	return nil
}

// splitVariants splits the pipeline flags at each further "--": every group is one flag
// set the program is captured with (a program whose flags change its pipeline).
func splitVariants(args []string) [][]string {
	variants := [][]string{{}}
	for _, a := range args {
		if a == "--" {
			variants = append(variants, []string{})
			continue
		}
		variants[len(variants)-1] = append(variants[len(variants)-1], a)
	}
	return variants
}

// captureVariants builds the program once and captures it with each flag set.
func captureVariants(ctx context.Context, opts capture.Options, variants [][]string, save string) ([]gen.Variant, error) {
	per := opts.Timeout
	if per <= 0 {
		per = capture.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, per*time.Duration(len(variants)))
	defer cancel()
	p, err := capture.Build(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	var vs []gen.Variant
	for _, args := range variants {
		c, err := p.Capture(ctx, args)
		if err != nil {
			return nil, err
		}
		if save != "" {
			if err := capture.WriteFile(save, c); err != nil {
				return nil, fmt.Errorf("saving the capture: %w", err)
			}
		}
		a, err := gen.Analyze(c)
		if err != nil {
			return nil, fmt.Errorf("flags %q: %w", args, err)
		}
		vs = append(vs, gen.Variant{Analysis: a, Args: args})
	}
	return vs, nil
}

// variantsText is the summary line: each variant's stages.
func variantsText(vs []gen.Variant) string {
	var parts []string
	for i, v := range vs {
		text := stagesText(v.Analysis)
		if len(vs) > 1 {
			text = fmt.Sprintf("V%d: %s", i, text)
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, " | ")
}

func stagesText(a *gen.Analysis) string {
	var native, portable []string
	for _, s := range a.Stages {
		switch {
		case s.Native:
			native = append(native, s.ID)
		case s.Fingerprint != "":
			portable = append(portable, s.ID)
		}
	}
	text := fmt.Sprintf("%d stages", len(a.Stages))
	if len(native) > 0 {
		text += "; native: " + strings.Join(native, ", ")
	}
	if len(portable) > 0 {
		text += "; portable (see the header for why): " + strings.Join(portable, ", ")
	}
	return text
}
