//go:build unix

package jobserver

import (
	"errors"
	"os/exec"
	"syscall"
)

// SetGroup makes cmd start in a new process group of its own, so that
// KillGroup reaches it and every process it starts. On Linux the child is
// also killed if this process dies first.
func SetGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	setParentDeathSignal(cmd.SysProcAttr)
}

// KillGroup sends sig to the process group led by cmd's process. It is a
// no-op if cmd was never started; a group that is already gone is not an
// error.
func KillGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
