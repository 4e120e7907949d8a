package main

import (
	"os"
	"syscall"
)

// cpuSecondsOf is the user plus system CPU time of an exited process, 0 if unknown.
func cpuSecondsOf(ps *os.ProcessState) float64 {
	if ps == nil {
		return 0
	}
	return (ps.UserTime() + ps.SystemTime()).Seconds()
}

// maxRSSOf is the peak RSS (KiB) of an exited process, 0 if unknown. Pipeline processes
// run through jobserver.Run, in a process group of their own.
func maxRSSOf(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return maxRSSKiB(ru)
	}
	return 0
}
