package main

import (
	"io"
	"slices"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.quick || o.runs != 3 || o.timeout != 10*time.Minute || !slices.Equal(o.workloads, defaultWorkloads()) || slices.Contains(o.workloads, "stateful_count") ||
		o.sluice != "bin/sluice" || o.prism != "bin/prism" || o.out != "out/bench" || o.keepGoing {
		t.Errorf("defaults = %+v", o)
	}
	o, err = parseFlags([]string{"--quick", "--workloads=cogbk, wordcount", "--keep-going"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !o.quick || o.runs != 1 || o.timeout != 2*time.Minute || !slices.Equal(o.workloads, []string{"cogbk", "wordcount"}) || !o.keepGoing {
		t.Errorf("quick = %+v", o)
	}
	o, err = parseFlags([]string{"--quick", "--runs=2"}, io.Discard)
	if err != nil || o.runs != 2 {
		t.Errorf("--runs=2: %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"--workloads=nope"}, {"--workloads=,"}, {"--runs=-1"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) succeeded", bad)
		}
	}
}

func TestWorkloadArgs(t *testing.T) {
	p, err := findWorkload("cogbk").prepare(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	opt := `{"num_records":50000,"key_size":10,"value_size":90}`
	if p.records != 100_000 || !slices.Equal(p.args(""), []string{"--input_options=" + opt, "--co_input_options=" + opt}) {
		t.Errorf("cogbk quick: %d records, args %q", p.records, p.args(""))
	}
	p, _ = findWorkload("group_by_key").prepare(nil, false)
	if p.records != 300_000 || p.writesOutput {
		t.Errorf("group_by_key full: %+v", p)
	}
}

func TestRoundOrder(t *testing.T) {
	if got := roundOrder(1); !slices.Equal(got, []string{runnerSluice, runnerNative, runnerPrism, runnerDirect, runnerHandwritten}) {
		t.Errorf("round 1 = %q", got)
	}
	if got := roundOrder(2); !slices.Equal(got, []string{runnerPrism, runnerSluice, runnerNative, runnerDirect, runnerHandwritten}) {
		t.Errorf("round 2 = %q", got)
	}
}
