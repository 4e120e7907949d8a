package fnharness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Artifact URNs of the Go worker binary dependency.
const (
	URNArtifactFile         = "beam:artifact:type:file:v1"
	URNArtifactGoWorkerRole = "beam:artifact:role:go_worker_binary:v1"
)

// termGrace is how long a worker process may take to exit after SIGTERM.
const termGrace = 2 * time.Second

// processEnv is a worker process in its own process group.
type processEnv struct {
	w      *Worker
	cmd    *exec.Cmd
	dir    string        // semi-persistent dir, removed on cleanup
	exited chan struct{} // closed once Wait returned
}

func startProcess(w *Worker) (environment, error) {
	ep := w.srv.Endpoint()
	dir, err := os.MkdirTemp("", "sluice-worker-")
	if err != nil {
		return nil, fmt.Errorf("creating the worker's directory: %w", err)
	}
	payload := &pipepb.ProcessPayload{}
	if err := proto.Unmarshal(w.cfg.Env.GetPayload(), payload); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("decoding the ProcessPayload of the environment: %w", err)
	}
	env := os.Environ()
	for k, v := range payload.GetEnv() {
		env = append(env, k+"="+v)
	}

	var prog string
	var args []string
	bin, err := goWorkerBinary(w.cfg.Env, dir)
	switch {
	case err != nil:
		os.RemoveAll(dir)
		return nil, err
	case bin != "":
		// Exec the Go worker binary directly, as go/container/boot.go would.
		prog = bin
		args = []string{
			"--worker=true",
			"--id=" + w.id,
			"--logging_endpoint=" + ep,
			"--control_endpoint=" + ep,
			"--semi_persist_dir=" + dir,
		}
		optsFile, err := writeOptions(dir, withNativeEndpoint(w.cfg.PipelineOptions, ep))
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		env = append(env, "PIPELINE_OPTIONS_FILE="+optsFile)
		if caps := w.srv.cfg.RunnerCapabilities; len(caps) > 0 {
			env = append(env, "RUNNER_CAPABILITIES="+strings.Join(caps, " "))
		}
	default:
		// A boot program: it provisions itself through our provision service.
		prog = payload.GetCommand()
		if prog == "" {
			os.RemoveAll(dir)
			return nil, errors.New("the process environment has neither a Go worker binary dependency nor a command")
		}
		args = []string{
			"--id=" + w.id,
			"--provision_endpoint=" + ep,
			"--logging_endpoint=" + ep,
			"--artifact_endpoint=" + ep,
			"--control_endpoint=" + ep,
			"--semi_persist_dir=" + dir,
		}
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("creating the worker's output pipe: %w", err)
	}
	cmd := exec.Command(prog, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout = pw
	cmd.Stderr = pw
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting worker process %s: %w", prog, err)
	}
	pw.Close() // the child holds its own copy
	p := &processEnv{w: w, cmd: cmd, dir: dir, exited: make(chan struct{})}
	w.log.Info("worker process started", "pid", cmd.Process.Pid, "program", prog)

	if !w.goOwned(func() { p.copyOutput(pr) }) {
		pr.Close()
	}
	if !w.goOwned(p.wait) {
		// Unreachable before Stop; never leave the process behind.
		killProcessGroup(cmd)
		cmd.Wait()
		close(p.exited)
	}
	return p, nil
}

// goWorkerBinary returns the path of an executable copy of the environment's
// Go worker binary, or "" if the environment has none.
func goWorkerBinary(env *pipepb.Environment, dir string) (string, error) {
	for _, dep := range env.GetDependencies() {
		if dep.GetRoleUrn() != URNArtifactGoWorkerRole || dep.GetTypeUrn() != URNArtifactFile {
			continue
		}
		fp := &pipepb.ArtifactFilePayload{}
		if err := proto.Unmarshal(dep.GetTypePayload(), fp); err != nil {
			return "", fmt.Errorf("decoding the Go worker binary's file payload: %w", err)
		}
		path := fp.GetPath()
		st, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("the Go worker binary is not available to the runner: %w", err)
		}
		if st.Size() == 0 {
			return "", fmt.Errorf("the Go worker binary %s is empty (LOOPBACK stages an empty file; use --environment_type=LOOPBACK with an external environment, or pass --worker_binary)", path)
		}
		if st.Mode()&0o111 != 0 {
			return path, nil
		}
		exe := filepath.Join(dir, "worker")
		if err := copyExecutable(path, exe); err != nil {
			return "", fmt.Errorf("making the Go worker binary executable: %w", err)
		}
		return exe, nil
	}
	return "", nil
}

func copyExecutable(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// writeOptions writes the pipeline options as the JSON the Go worker reads from
// PIPELINE_OPTIONS_FILE.
func writeOptions(dir string, opts *structpb.Struct) (string, error) {
	js := []byte("{}")
	if opts != nil {
		b, err := protojson.Marshal(opts)
		if err != nil {
			return "", fmt.Errorf("encoding pipeline options: %w", err)
		}
		js = b
	}
	path := filepath.Join(dir, "pipeline_options.json")
	if err := os.WriteFile(path, js, 0o600); err != nil {
		return "", fmt.Errorf("writing pipeline options: %w", err)
	}
	return path, nil
}

func (p *processEnv) copyOutput(r *os.File) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		p.w.log.Info("worker process output", "line", line)
		p.w.logs.add("process: " + line)
	}
}

func (p *processEnv) wait() {
	err := p.cmd.Wait()
	close(p.exited)
	if err == nil {
		err = errors.New("exit status 0")
	}
	p.w.fail(fmt.Errorf("worker process %d exited: %w", p.cmd.Process.Pid, err))
}

func (p *processEnv) stop(ctx context.Context) error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	termProcessGroup(p.cmd)
	t := time.NewTimer(termGrace)
	defer t.Stop()
	select {
	case <-p.exited:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	killProcessGroup(p.cmd)
	select {
	case <-p.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("worker process %d did not exit after SIGKILL: %w", p.cmd.Process.Pid, ctx.Err())
	}
}

func (p *processEnv) cleanup() {
	if err := os.RemoveAll(p.dir); err != nil {
		p.w.log.Warn("removing the worker's directory", "dir", p.dir, "err", err)
	}
}
