//go:build unix && !linux

package main

import "syscall"

// maxRSSKiB returns the peak RSS of a rusage; BSDs and macOS report it in bytes.
func maxRSSKiB(ru *syscall.Rusage) int64 { return ru.Maxrss / 1024 }
