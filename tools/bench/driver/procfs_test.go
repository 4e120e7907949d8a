package main

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/sluice-runner/sluice/tools/conformance/jobserver"
)

// The test binary doubles as a child process to find when helperEnv is set.
const helperEnv = "BENCH_DRIVER_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "sleep" {
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const sampleStatus = `Name:	prism
Umask:	0022
State:	S (sleeping)
Pid:	25010
PPid:	1
VmPeak:	 2905560 kB
VmSize:	 2905560 kB
VmHWM:	  499044 kB
VmRSS:	  310200 kB
Threads:	12
`

func TestParseVmHWM(t *testing.T) {
	got, err := parseVmHWM(sampleStatus)
	if err != nil || got != 499044 {
		t.Errorf("parseVmHWM = %d, %v; want 499044", got, err)
	}
	if _, err := parseVmHWM("Name:\tx\nVmRSS:\t1 kB\n"); err == nil {
		t.Error("parseVmHWM without a VmHWM line succeeded")
	}
	if _, err := parseVmHWM("VmHWM:\t12 MB\n"); err == nil {
		t.Error("parseVmHWM accepted a unit other than kB")
	}
}

func TestParseStatPPID(t *testing.T) {
	for stat, want := range map[string]int{
		"25010 (prism) S 4242 25010 25010 0 -1 4194560 1 0":  4242,
		"77 (a) b (c d)) R 1 77 77 0 -1 4194560 1 0":         1,
		"12 (sluice) S 99 12 12 0 -1 4194560 3105 0 0 0 4 1": 99,
	} {
		got, err := parseStatPPID(stat)
		if err != nil || got != want {
			t.Errorf("parseStatPPID(%q) = %d, %v; want %d", stat, got, err, want)
		}
	}
	for _, bad := range []string{"", "12 (x", "12 (x) S"} {
		if _, err := parseStatPPID(bad); err == nil {
			t.Errorf("parseStatPPID(%q) succeeded", bad)
		}
	}
}

func TestFindChildAndPeakRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"=sleep")
	jobserver.SetGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	pid, err := findChild(exe)
	if err != nil || pid != cmd.Process.Pid {
		t.Fatalf("findChild = %d, %v; want %d", pid, err, cmd.Process.Pid)
	}
	if kib, err := peakRSSKiB(pid); err != nil || kib <= 0 {
		t.Errorf("peakRSSKiB = %d, %v; want a positive size", kib, err)
	}
	if _, err := findChild("/nonexistent/binary"); err == nil {
		t.Error("findChild found a child running a nonexistent binary")
	}
}
