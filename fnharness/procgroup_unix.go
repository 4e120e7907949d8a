//go:build unix

package fnharness

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the worker in its own process group, so stopping it also
// stops anything it started, and (on Linux) has it killed if the runner dies first, so
// that no worker outlives its runner.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd.SysProcAttr)
}

func termProcessGroup(cmd *exec.Cmd) { signalGroup(cmd, syscall.SIGTERM) }

func killProcessGroup(cmd *exec.Cmd) { signalGroup(cmd, syscall.SIGKILL) }

func signalGroup(cmd *exec.Cmd, sig syscall.Signal) {
	if cmd.Process == nil {
		return
	}
	// Negative pid: the whole group. Errors mean it is already gone.
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}
