package main

import (
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	results := []result{
		{id: testID{"p", "TestA"}, result: "pass"},
		{id: testID{"p", "TestB/X"}, result: "pass"},
		{id: testID{"p", "TestB/Y"}, result: "pass"},
		{id: testID{"p", "TestC"}, result: "fail", reason: "boom"},
		{id: testID{"p", "TestNew"}, result: "pass"},
	}
	expected := []testID{{"p", "TestA"}, {"p", "TestB"}, {"p", "TestC"}, {"p", "TestGone"}, {"q", "TestOther"}}
	inScope := func(id testID) bool { return id.pkg == "p" }
	c := compare(expected, results, inScope)
	if len(c.notPassed) != 2 || !strings.HasPrefix(c.notPassed[0], "p.TestC: fail: boom") ||
		!strings.HasPrefix(c.notPassed[1], "p.TestGone: no result") {
		t.Errorf("notPassed = %q, want TestC and TestGone", c.notPassed)
	}
	if len(c.newPass) != 1 || c.newPass[0] != "p.TestNew" {
		t.Errorf("newPass = %q, want [p.TestNew]", c.newPass)
	}
	if c.outOfScope != 1 {
		t.Errorf("outOfScope = %d, want 1", c.outOfScope)
	}
}
