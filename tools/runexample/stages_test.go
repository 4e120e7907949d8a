package main

import "testing"

func TestSummarizeStageModes(t *testing.T) {
	msg := "how SDK stages run:\n" +
		"  s1 Read/textio.Read/beam.createFn, +2: native, fingerprint 676b\n" +
		"  s3 Format/main.formatCount: portable (sluicegen: side input), fingerprint 5af7\n" +
		"  s5 Write/textio.Write/textio.writeFileFn: portable (stale: the binary's generated file has no stage with fingerprint 00c4: the stage changed since go generate)"
	if got, want := summarizeStageModes(msg), "s1 native, s3 portable, s5 portable"; got != want {
		t.Errorf("summarizeStageModes = %q, want %q", got, want)
	}
	if got := summarizeStageModes("plan: 4 stages, 3 edges\n  s1 sdk x1: native_test.emitInts"); got != "" {
		t.Errorf("another message gave %q", got)
	}
}
