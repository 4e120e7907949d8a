package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// peakRSSKiB reads VmHWM, the peak resident set size, of a live process from
// /proc/PID/status.
func peakRSSKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmHWM(string(b))
}

// parseVmHWM returns the VmHWM value, in KiB, of a /proc/PID/status text.
func parseVmHWM(status string) (int64, error) {
	sc := bufio.NewScanner(strings.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("malformed VmHWM line %q", sc.Text())
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, errors.New("no VmHWM line in status")
}

// parseStatPPID returns the parent pid from a /proc/PID/stat line. The command name, in
// parentheses, may hold spaces and parentheses itself, so fields count from the last ')'.
func parseStatPPID(stat string) (int, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	return strconv.Atoi(f[1])
}

// findChild returns the pid of a child process of this one that runs the executable bin.
// The jobserver package does not expose the pid of the server it starts; the server is a
// direct child, so it is found through /proc.
func findChild(bin string) (int, error) {
	want, err := filepath.Abs(bin)
	if err != nil {
		return 0, err
	}
	if r, err := filepath.EvalSymlinks(want); err == nil {
		want = r
	}
	self := os.Getpid()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		if ppid, err := parseStatPPID(string(stat)); err != nil || ppid != self {
			continue
		}
		exe, err := os.Readlink(d + "/exe")
		if err != nil {
			continue
		}
		if strings.TrimSuffix(exe, " (deleted)") == want {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no child process runs %s", want)
}
