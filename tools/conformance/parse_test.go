package main

import "testing"

func TestLeafResultsCountsSubtests(t *testing.T) {
	evs := []event{
		{Action: "run", Test: "TestP"},
		{Action: "run", Test: "TestP/A"},
		{Action: "pass", Test: "TestP/A", Elapsed: 1.5},
		{Action: "run", Test: "TestP/B"},
		{Action: "output", Test: "TestP/B", Output: "time=x level=INFO msg=noise\n"},
		{Action: "output", Test: "TestP/B", Output: "    b_test.go:12: want 2, got 3\n"},
		{Action: "fail", Test: "TestP/B"},
		{Action: "fail", Test: "TestP"},
	}
	got := leafResults("pkg", "TestP", evs, "")
	if len(got) != 2 {
		t.Fatalf("got %d results, want 2 leaves: %+v", len(got), got)
	}
	if got[0].result != "pass" || got[0].seconds != 1.5 {
		t.Errorf("TestP/A = %+v, want pass in 1.5s", got[0])
	}
	if got[1].result != "fail" || got[1].reason != "b_test.go:12: want 2, got 3" {
		t.Errorf("TestP/B = %+v, want fail with the t.Error line", got[1])
	}
}

func TestLeafResultsNoVerdict(t *testing.T) {
	evs := []event{
		{Action: "run", Test: "TestHang"},
		{Action: "output", Test: "TestHang", Output: "panic: test timed out after 2m0s\n"},
	}
	got := leafResults("pkg", "TestHang", evs, "timeout")
	if len(got) != 1 || got[0].result != "fail" || got[0].reason != "timeout" {
		t.Fatalf("got %+v, want one failure with the no-verdict reason", got)
	}
	got = leafResults("pkg", "TestNeverRan", nil, "crashed")
	if len(got) != 1 || got[0].id.test != "TestNeverRan" || got[0].result != "fail" {
		t.Fatalf("got %+v, want the top-level test failed", got)
	}
}

func TestLeafResultsParentFailsAlone(t *testing.T) {
	evs := []event{
		{Action: "run", Test: "TestP"},
		{Action: "run", Test: "TestP/A"},
		{Action: "pass", Test: "TestP/A"},
		{Action: "output", Test: "TestP", Output: "    p_test.go:40: cleanup failed\n"},
		{Action: "fail", Test: "TestP"},
	}
	got := leafResults("pkg", "TestP", evs, "")
	if len(got) != 2 || got[1].id.test != "TestP" || got[1].result != "fail" {
		t.Fatalf("got %+v, want TestP/A pass and TestP fail", got)
	}
}
