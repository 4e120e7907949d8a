//go:build unix && !linux

package jobserver

import "syscall"

func setParentDeathSignal(*syscall.SysProcAttr) {}
