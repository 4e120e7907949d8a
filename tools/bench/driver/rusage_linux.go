package main

import "syscall"

// maxRSSKiB returns the peak RSS of a rusage; Linux reports it in KiB.
func maxRSSKiB(ru *syscall.Rusage) int64 { return ru.Maxrss }
