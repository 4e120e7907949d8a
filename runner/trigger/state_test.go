package trigger

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

// walkTriggers are driven by TestRandomWalk; they cover every kind and the nestings
// whose state is most intricate.
var walkTriggers = []string{
	"Default",
	"Always",
	"Never",
	"AfterCount(3)",
	"Repeat(AfterCount(2))",
	"AfterEndOfWindow",
	"AfterEndOfWindow(early=AfterCount(2), late=Repeat(AfterAny(AfterCount(2), AfterProcessingTime(delay=30))))",
	"AfterEndOfWindow(late=AfterEach(AfterCount(1), AfterCount(2)))",
	"AfterProcessingTime(delay=50, alignTo=20@5)",
	"Repeat(AfterSynchronizedProcessingTime)",
	"Repeat(AfterAll(AfterCount(2), AfterProcessingTime(delay=40)))",
	"AfterAny(AfterCount(5), AfterEndOfWindow)",
	"Repeat(AfterEach(AfterCount(2), AfterProcessingTime(delay=10), Always))",
	"OrFinally(Repeat(AfterCount(2)), AfterCount(7))",
	"Repeat(OrFinally(Always, AfterProcessingTime(delay=25)))",
}

func mustMachine(t *testing.T, expr string) *Machine {
	t.Helper()
	p, err := parseTrigger(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	m, err := New(p)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return m
}

// TestRandomWalk drives each trigger through random elements, time advances, firings
// and merges, checking after every step that the state survives its encoding, that
// ShouldFire changes nothing, and that NextProcessingTime agrees with ShouldFire.
func TestRandomWalk(t *testing.T) {
	for _, expr := range walkTriggers {
		t.Run(expr, func(t *testing.T) {
			m := mustMachine(t, expr)
			rng := rand.New(rand.NewPCG(1, uint64(len(expr))))
			const windowMax = 999
			now := Time{Watermark: 0, ProcessingTime: 0}
			states := []*State{m.NewState(), m.NewState(), m.NewState()}
			for step := range 2000 {
				k := rng.IntN(len(states))
				s := states[k]
				switch op := rng.IntN(10); {
				case op < 5:
					m.OnElement(s, windowMax, now)
				case op < 7:
					now.ProcessingTime += rng.Int64N(20)
				case op < 8 && now.Watermark < windowMax+100:
					now.Watermark += rng.Int64N(30)
				case op < 9 && rng.IntN(4) == 0:
					// Sessions: two states merge into one, a fresh one takes the slot.
					j := (k + 1) % len(states)
					states[k] = m.Merge([]*State{s, states[j]}, windowMax, now)
					states[j] = m.NewState()
				}
				s = states[k]
				before, _ := s.MarshalBinary()
				fire := m.ShouldFire(s, windowMax, now)
				if after, _ := s.MarshalBinary(); !bytes.Equal(before, after) {
					t.Fatalf("step %d: ShouldFire changed the state", step)
				}
				checkNext(t, m, s, windowMax, now, fire)
				if fire {
					m.OnFire(s, windowMax, now)
				}
				states[k] = roundTrip(t, m, s)
			}
		})
	}
}

// checkNext checks NextProcessingTime against ShouldFire for the conditions it covers:
// watermark conditions count as unmet there, so only states that do not depend on the
// watermark are compared.
func checkNext(t *testing.T, m *Machine, s *State, windowMax int64, now Time, fire bool) {
	t.Helper()
	next := m.NextProcessingTime(s, windowMax)
	early := Time{Watermark: math.MinInt64, ProcessingTime: now.ProcessingTime}
	if m.ShouldFire(s, windowMax, early) != (next <= now.ProcessingTime) {
		t.Fatalf("NextProcessingTime %d, but ShouldFire at %d before the window's end is %v",
			next, now.ProcessingTime, !(next <= now.ProcessingTime))
	}
	if next != math.MaxInt64 && next > now.ProcessingTime {
		if !m.ShouldFire(s, windowMax, Time{Watermark: math.MinInt64, ProcessingTime: next}) {
			t.Fatalf("NextProcessingTime %d, but ShouldFire is false then", next)
		}
	}
	if m.Finished(s) && (fire || next != math.MaxInt64) {
		t.Fatalf("finished, yet ShouldFire %v and NextProcessingTime %d", fire, next)
	}
}

func roundTrip(t *testing.T, m *Machine, s *State) *State {
	t.Helper()
	prefix := []byte("prefix")
	b, err := s.AppendBinary(bytes.Clone(prefix))
	if err != nil || !bytes.HasPrefix(b, prefix) {
		t.Fatalf("AppendBinary = %x, %v", b, err)
	}
	got, err := m.DecodeState(b[len(prefix):])
	if err != nil {
		t.Fatalf("DecodeState(%x): %v", b, err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("state %+v decodes as %+v", s, got)
	}
	return got
}

func TestDecodeStateErrors(t *testing.T) {
	m := mustMachine(t, "Repeat(AfterProcessingTime(delay=5s))")
	s := m.NewState()
	m.OnElement(s, 100, Time{ProcessingTime: 7})
	good, _ := s.MarshalBinary()
	if len(good) != 10 {
		t.Errorf("encoding %x is %d bytes, want 10", good, len(good))
	}
	other, _ := mustMachine(t, "Repeat(AfterProcessingTime(delay=6s))").NewState().MarshalBinary()
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":            nil,
		"short":            good[:4],
		"version":          edit(func(b []byte) []byte { b[0] = 9; return b }),
		"other trigger":    other,
		"node count":       edit(func(b []byte) []byte { b[5] = 3; return b }),
		"truncated":        good[:len(good)-3],
		"bad varint":       edit(func(b []byte) []byte { return append(b[:len(b)-2], 0x80) }),
		"unknown flags":    edit(func(b []byte) []byte { b[6] |= 0x40; return b }),
		"trailing":         append(bytes.Clone(good), 0),
		"no node byte":     good[:7],
		"count not varint": edit(func(b []byte) []byte { return append(b[:5], 0x80) }),
	} {
		if _, err := m.DecodeState(b); !errors.Is(err, ErrBadState) {
			t.Errorf("%s: DecodeState(%x) = %v, want ErrBadState", name, b, err)
		}
	}
}

// TestNewErrorKinds checks that New's errors wrap ErrInvalid, and that valid triggers
// name themselves back as they were written.
func TestNewErrorKinds(t *testing.T) {
	for _, expr := range []string{"nil", "Unset", "AfterCount(0)", "AfterAll()", "Repeat()",
		"OrFinally(Always)", "AfterProcessingTime(delay=-1)", "AfterEach(Always, AfterAny())"} {
		p, err := parseTrigger(expr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := New(p); !errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnsupported) {
			t.Errorf("New(%s) = %v, want an ErrInvalid", expr, err)
		}
	}
}

// TestStringParsesBack checks, for every trigger in testdata/ that New accepts, that
// String renders what parses back into the same proto.
func TestStringParsesBack(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		for i, line := range lines {
			if !strings.HasPrefix(line, "trigger") || i+1 >= len(lines) {
				continue
			}
			p, err := parseTrigger(lines[i+1])
			if err != nil {
				t.Fatalf("%s:%d: %v", f, i+2, err)
			}
			m, err := New(p)
			if err != nil {
				continue
			}
			back, err := parseTrigger(m.String())
			if err != nil || !proto.Equal(back, p) {
				t.Errorf("%s:%d: %s renders as %s, which parses as %v (%v)", f, i+2, lines[i+1], m, back, err)
			}
			n++
		}
	}
	if n < 50 {
		t.Errorf("only %d triggers checked", n)
	}
}

// TestOnFireNotReady checks that OnFire without ShouldFire changes nothing: a caller
// that fires at expiry on its own must not finish a trigger by mistake.
func TestOnFireNotReady(t *testing.T) {
	m := mustMachine(t, "AfterEach(AfterCount(2), AfterEndOfWindow)")
	s := m.NewState()
	now := Time{Watermark: 0, ProcessingTime: 0}
	m.OnElement(s, 100, now)
	before, _ := s.MarshalBinary()
	m.OnFire(s, 100, now)
	if after, _ := s.MarshalBinary(); !bytes.Equal(before, after) {
		t.Errorf("OnFire changed a state that was not ready: %x -> %x", before, after)
	}
}
