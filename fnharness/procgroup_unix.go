//go:build unix

package fnharness

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the worker in its own process group, so stopping it also
// stops anything it started.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
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
