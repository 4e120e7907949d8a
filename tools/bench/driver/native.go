package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The native column: the same program built with the file sluicegen generates for it
// (added through a go build overlay, so the package is not touched), run on the same
// Sluice server. Stages with a generated chain run natively, the rest portably, as the
// job's messages say; the column reports how many of the program's SDK stages were native.

// genDir holds the generated files under OUT; the leading underscore keeps the go command's
// ./... patterns out of it (OUT is inside the module by default).
const genDir = "_gen"

// nativeSummary reads the generated file's header: "N stages, K of them SDK stages, M native."
var nativeSummary = regexp.MustCompile(`(?m)^// (\d+) stages, (\d+) of them SDK stages, (\d+) native\.$`)

// nativeBuild is a workload's program built with its generated file.
type nativeBuild struct {
	bin       string
	sdkStages int
	native    int
	generated string // the generated file, kept in OUT/gen for reading
}

// stagesText is the report's "native stages" cell.
func (b *nativeBuild) stagesText() string {
	return fmt.Sprintf("%d/%d", b.native, b.sdkStages)
}

// sluicegenBinary builds tools/sluicegen once per driver run.
func (e *env) sluicegenBinary(ctx context.Context) (string, error) {
	if e.sluicegen == "" && e.sluicegenErr == nil {
		e.sluicegen, e.sluicegenErr = goBuild(ctx, e, "sluicegen", "./tools/sluicegen")
	}
	return e.sluicegen, e.sluicegenErr
}

// buildNative generates the workload's file with the run's own flags (they can change
// the pipeline, e.g. Nexmark's --query) and builds the program with it. A program with
// no native stage is not built: its native column would repeat the portable one.
func (e *env) buildNative(ctx context.Context, w *workload, p *prepared) (*nativeBuild, error) {
	gen, err := e.sluicegenBinary(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := packageDir(ctx, e, w.pkg)
	if err != nil {
		return nil, err
	}
	if inModuleCache(ctx, e, dir) {
		return nil, errModuleCache
	}
	out, err := filepath.Abs(filepath.Join(e.dir(genDir), w.name+"_sluice.go"))
	if err != nil {
		return nil, err
	}
	args := append([]string{"--dir=" + dir, "--out=" + out, "--"}, p.args(filepath.Join(e.dir(genDir), w.name+"-capture-output"))...)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if msg, err := exec.CommandContext(cctx, gen, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("sluicegen: %w\n%s", err, strings.TrimSpace(string(msg)))
	}
	src, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	m := nativeSummary.FindSubmatch(src)
	if m == nil {
		return nil, fmt.Errorf("%s: no stage summary in its header", out)
	}
	b := &nativeBuild{generated: out}
	b.sdkStages, _ = strconv.Atoi(string(m[2]))
	b.native, _ = strconv.Atoi(string(m[3]))
	if b.native == 0 {
		return b, nil
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(dir, filepath.Base(dir)+"_sluice.go"): out}})
	if err != nil {
		return nil, err
	}
	overlayFile := filepath.Join(e.dir(genDir), w.name+"-overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return nil, err
	}
	b.bin, err = goBuild(ctx, e, w.name+"-native", w.pkg, "-overlay="+overlayFile)
	return b, err
}

// portableFlags are the flags that keep a program portable on every runner: a program
// with a generated file of its own (testdata/wordcount) would otherwise run its stages
// natively in the "sluice" column too. Programs without one do not know the flag.
func portableFlags(ctx context.Context, e *env, pkg string) ([]string, error) {
	dir, err := packageDir(ctx, e, pkg)
	if err != nil {
		return nil, err
	}
	generated, err := filepath.Glob(filepath.Join(dir, "*_sluice.go"))
	if err != nil || len(generated) == 0 {
		return nil, err
	}
	return []string{"--sluice_native=false"}, nil
}

// errModuleCache says why a program of another module (Beam's load tests) has no native
// column: go build overlays may not replace files in the module cache, and both the
// capture and the native build add a file to the package.
var errModuleCache = errors.New("its package is in the module cache, where a build overlay cannot add the generated file")

// inModuleCache says whether dir is under GOMODCACHE.
func inModuleCache(ctx context.Context, e *env, dir string) bool {
	out, err := exec.CommandContext(ctx, e.opts.goCmd, "env", "GOMODCACHE").Output()
	cache := strings.TrimSpace(string(out))
	return err == nil && cache != "" && strings.HasPrefix(dir, cache+string(filepath.Separator))
}

// packageDir is the directory of a Go package (for the load tests, in the module cache).
func packageDir(ctx context.Context, e *env, pkg string) (string, error) {
	out, err := exec.CommandContext(ctx, e.opts.goCmd, "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("go list %s: %w", pkg, err)
	}
	return strings.TrimSpace(string(out)), nil
}
