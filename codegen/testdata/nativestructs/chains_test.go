package main

// This test runs the chains sluicegen generated for this package (nativestructs_sluice.go,
// which codegen's tests add with a build overlay) the way the native harness does, with
// an rt.StageEnv serving the transforms of the pipeline as the capture records it: built
// here with other configurations than main's, which the chains must decode from the
// payloads (the fingerprints, and so the registered chains, do not depend on them).

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/codegen/rt"
	"github.com/sluice-runner/sluice/runner/wire"
)

// fakeEnv serves transforms' payloads by unique name, as the runner's descriptor does.
type fakeEnv map[string][]byte

func (e fakeEnv) Payload(name string) ([]byte, error) {
	p, ok := e[name]
	if !ok {
		return nil, fmt.Errorf("no transform %q", name)
	}
	return p, nil
}

func (fakeEnv) TransformID(name string) (string, error) { return "id:" + name, nil }

// The chains of this package code their ports with generated coders: they never ask.
func (fakeEnv) InputCoder() (*coder.Coder, error) { return nil, fmt.Errorf("not served") }

func (fakeEnv) OutputCoder(int) (*coder.Coder, error) { return nil, fmt.Errorf("not served") }

func (fakeEnv) TransformCoder(string, bool) (*coder.Coder, error) {
	return nil, fmt.Errorf("not served")
}

func (fakeEnv) Coder(string) (*coder.Coder, error) { return nil, fmt.Errorf("not served") }

// envFor captures the pipeline built with the given configuration and serves its
// transforms.
func envFor(t *testing.T, lines *makeLinesFn, format string, extra ...any) fakeEnv {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	build(s, lines, format, extra...)
	c, err := capture.Record(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	env := fakeEnv{}
	for _, tr := range c.Pipeline.GetComponents().GetTransforms() {
		// A test binary's package is not main: the SDK names this package's DoFns (and
		// so the transforms holding them) after its path, where the program, captured
		// by sluicegen, says main.
		env[strings.ReplaceAll(tr.GetUniqueName(), "/nativestructs.", "/main.")] = tr.GetSpec().GetPayload()
	}
	return env
}

// factory is the chain registered for the planned stage id.
func factory(t *testing.T, id string) rt.StageFactory {
	t.Helper()
	for fp, label := range sluiceStages {
		if strings.HasPrefix(label, id+":") {
			f, ok := rt.LookupStage(fp)
			if !ok {
				t.Fatalf("stage %s (%s) is not registered", id, fp)
			}
			return f
		}
	}
	t.Fatalf("no stage %s in %v", id, sluiceStages)
	return nil
}

func newStage(t *testing.T, id string, env rt.StageEnv) rt.Stage {
	t.Helper()
	s, err := factory(t, id)(env)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var header = rt.Header{Timestamp: 1234, Pane: wire.PaneInfo{IsFirst: true, IsLast: true, Timing: wire.PaneOnTime}}

// lifecycleHeader is what the SDK gives elements emitted from StartBundle and
// FinishBundle: time zero, no firing pane.
var lifecycleHeader = rt.Header{Pane: wire.PaneNoFiring}

type partial struct {
	key   string
	count int
	h     rt.Header
}

// runLines runs one bundle of stage s2 (makeLinesFn -> words -> keyed counts ->
// precombine) on one impulse element and returns the partial counts it wrote.
func runLines(t *testing.T, s rt.Stage) []partial {
	t.Helper()
	var got []byte
	out := rt.NewOutput(func(b []byte) error { got = append(got, b...); return nil })
	b, err := s.StartBundle(context.Background(), []*rt.Output{out})
	if err != nil {
		t.Fatal(err)
	}
	elem := sluiceAppendS0ToS2(nil, []byte{})
	if n, err := b.Process(header, elem); err != nil || n != len(elem) {
		t.Fatalf("Process took %d bytes, %v; want %d", n, err, len(elem))
	}
	if err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	var ps []partial
	for rest := got; len(rest) > 0; {
		h, m, err := rt.DecodeGlobalHeader(rest)
		if err != nil {
			t.Fatal(err)
		}
		k, v, m2, err := sluiceDecodeS2ToS4(rest[m:])
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, partial{k, v, h})
		rest = rest[m+m2:]
	}
	return ps
}

func resetEvents() {
	events.Lock()
	defer events.Unlock()
	events.next, events.log, events.seen = 0, nil, nil
}

func eventLog() []string {
	events.Lock()
	defer events.Unlock()
	return slices.Clone(events.log)
}

// TestStructDoFn: makeLinesFn's configuration comes from the payload (not main's flags),
// its lifecycle runs as the SDK runs it, once Setup per instance, StartBundle and
// FinishBundle per bundle, Teardown at the end, and what StartBundle and FinishBundle
// emit flows through the rest of the chain, the lifted combine included, with the SDK's
// header.
func TestStructDoFn(t *testing.T) {
	resetEvents()
	env := envFor(t, &makeLinesFn{Lines: 3, Words: []string{"a", "b"}, Header: "h", Trailer: "t w"}, "%s=%d", "x")
	s := newStage(t, "s2", env)
	if got := eventLog(); !slices.Equal(got, []string{"1 setup"}) {
		t.Errorf("after the factory: events %q, want setup", got)
	}
	// Lines "a", "b a", "a b a"; "h" from StartBundle, "t w" from FinishBundle. Each partial
	// keeps the time of its key's last element, with no pane (the SDK's lifted combine
	// sets none).
	partialHeader := rt.Header{Timestamp: header.Timestamp}
	want := []partial{{"h", 1, rt.Header{}}, {"a", 4, partialHeader}, {"b", 2, partialHeader}, {"t", 1, rt.Header{}}, {"w", 1, rt.Header{}}}
	for range 2 {
		if got := runLines(t, s); !reflect.DeepEqual(got, want) {
			t.Errorf("partials %+v, want %+v", got, want)
		}
	}
	if err := s.Teardown(); err != nil {
		t.Fatal(err)
	}
	wantLog := []string{"1 setup", "1 start", "1 process", "1 finish", "1 start", "1 process", "1 finish", "1 teardown"}
	if got := eventLog(); !slices.Equal(got, wantLog) {
		t.Errorf("events %q, want %q", got, wantLog)
	}

	// Each instance decodes and sets up its own DoFn.
	s2 := newStage(t, "s2", env)
	defer s2.Teardown()
	if got := eventLog(); got[len(got)-1] != "2 setup" {
		t.Errorf("a second instance: events %q, want a second setup", got)
	}

	// A DoFn's error result fails the bundle.
	bad := newStage(t, "s2", envFor(t, &makeLinesFn{Lines: 1}, "%s=%d", "x"))
	defer bad.Teardown()
	b, err := bad.StartBundle(context.Background(), []*rt.Output{rt.NewOutput(func([]byte) error { return nil })})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Process(header, sluiceAppendS0ToS2(nil, nil)); err == nil || !strings.Contains(err.Error(), "has no words") {
		t.Errorf("Process with no words: %v", err)
	}
}

// TestValueStructAndCreate: formatFn, a value struct, and beam.Create's createFn (called
// through method values) run with their decoded configuration.
func TestValueStructAndCreate(t *testing.T) {
	resetEvents()
	env := envFor(t, config(), "%s -> %d", "p", "q", "r")
	b, err := newStage(t, "s5", env).StartBundle(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, elem := range [][]byte{sluiceAppendS4ToS5(nil, "a", rt.ValuesOf([]int{1, 2})), sluiceAppendS4ToS5(nil, "b", rt.Values[int]{})} {
		if _, err := b.Process(header, elem); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	b, err = newStage(t, "s3", env).StartBundle(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Process(header, sluiceAppendS1ToS3(nil, nil)); err != nil {
		t.Fatal(err)
	}
	if err := b.Finish(); err != nil {
		t.Fatal(err)
	}
	want := []string{"a -> 3", "b -> 0", "p", "q", "r"}
	if !slices.Equal(events.seen, want) {
		t.Errorf("collected %q, want %q", events.seen, want)
	}
}

// TestWrongPayload: a payload holding another DoFn, or none, fails the factory.
func TestWrongPayload(t *testing.T) {
	env := envFor(t, config(), "%s=%d", "x")
	wrong := fakeEnv{"Lines/main.makeLinesFn": env["Extra/beam.createFn"]}
	if _, err := factory(t, "s2")(wrong); err == nil || !strings.Contains(err.Error(), "want *main.makeLinesFn") {
		t.Errorf("createFn's payload for makeLinesFn: %v", err)
	}
	if _, err := factory(t, "s3")(fakeEnv{}); err == nil || !strings.Contains(err.Error(), "Extra/beam.createFn") {
		t.Errorf("no payload: %v", err)
	}
	wrong = fakeEnv{"Extra/beam.createFn": env["Format/main.formatFn"]}
	if _, err := factory(t, "s3")(wrong); err == nil || !strings.Contains(err.Error(), "ProcessElement") {
		t.Errorf("formatFn's payload for createFn: %v", err)
	}
}
