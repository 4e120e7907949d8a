package state

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestScripts runs the scripts in testdata/ against the in-memory store and the Pebble
// store: both must print the expected output. Regenerate it with
//
//	go test ./state -run TestScripts -rewrite
//
// Directives:
//
//	run [ns=PATH]     one operation per input line on the store of namespace PATH
//	                  (default "job/stage/0/main"); reads print their result:
//	                    append KEY VALUE | read KEY | size KEY | clear KEY | scan [PREFIX]
//	                    clear-range PREFIX FROM TO (clears bags in [FROM, TO) during a scan)
//	                  words in double quotes are Go-unquoted ("a\x00b", "").
//	drop ns=PATH      drops namespace PATH and those under it
//	reopen            closes and reopens the Pebble database (nothing in memory)
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		for _, name := range []string{"memory", "pebble"} {
			t.Run(name, func(t *testing.T) {
				var b testBackend
				if name == "memory" {
					b = newMemBackend()
				} else {
					b = newPebbleBackend(t)
				}
				datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
					return runDirective(t, b, d)
				})
			})
		}
	})
}

func runDirective(t *testing.T, b testBackend, d *datadriven.TestData) string {
	ns := "job/stage/0/main"
	if d.HasArg("ns") {
		d.ScanArgs(t, "ns", &ns)
	}
	switch d.Cmd {
	case "reopen":
		if err := b.reopen(); err != nil {
			return "error: " + err.Error()
		}
		return "ok"
	case "drop":
		if err := b.drop(ns); err != nil {
			return "error: " + err.Error()
		}
		return "ok"
	case "run":
		var out []string
		s := b.store(ns)
		for _, line := range strings.Split(d.Input, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			args, err := parseArgs(line)
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			res, err := apply(s, args[0], args[1:])
			switch {
			case err != nil:
				out = append(out, fmt.Sprintf("%s: error: %v", line, err))
			case res != "":
				out = append(out, res)
			}
		}
		return strings.Join(out, "\n")
	}
	d.Fatalf(t, "unknown directive %q", d.Cmd)
	return ""
}
