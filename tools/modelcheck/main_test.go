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
	if o.sluice != "bin/sluice" || o.prism != "bin/prism" || o.dir != "testdata/modelcheck" || o.out != "out/modelcheck" ||
		o.pipelines != nil || o.timeout != 2*time.Minute || o.goCmd != "go" {
		t.Errorf("defaults = %+v", o)
	}
	o, err = parseFlags([]string{"--pipelines=b, a", "--timeout=30s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.pipelines, []string{"b", "a"}) || o.timeout != 30*time.Second {
		t.Errorf("parsed %+v", o)
	}
	for _, bad := range [][]string{{"--pipelines=,"}, {"--timeout=0s"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) succeeded", bad)
		}
	}
}
