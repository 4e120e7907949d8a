//go:build !unix

package fnharness

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

func termProcessGroup(cmd *exec.Cmd) { killProcessGroup(cmd) }

func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
