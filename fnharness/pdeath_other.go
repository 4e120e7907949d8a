//go:build unix && !linux

package fnharness

import "syscall"

func setParentDeathSignal(*syscall.SysProcAttr) {}
