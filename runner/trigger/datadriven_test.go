package trigger

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/cockroachdb/datadriven"
)

// TestScripts runs the scripts in testdata/. Regenerate their expected output with
//
//	go test ./runner/trigger -run TestScripts -rewrite
//
// The scripts drive a small GroupByKey, the harness below, that uses a Machine the way
// the runner's does (see the package doc): it buffers values per window in discarding
// mode, asks ShouldFire after every element and every time advance, emits a pane and
// calls OnFire when it is true, drops values of finished or expired windows, and at
// expiry emits what is left unless the trigger finished. It keeps every state only as
// bytes between two steps, so each step also checks the encoding. Directives:
//
//	trigger [fixed=SIZE] [lateness=MS]
//	    input: a trigger (expr_test.go's syntax). Prints its String, or New's error.
//	    Starts afresh: no windows, watermark -inf, processing time 0. Windows are
//	    fixed windows of SIZE ms, or the global window.
//	element ts=MS v=(V,...) [w=NAME max=MS]
//	    values arriving with event time ts, one at a time; w and max name a window
//	    explicitly (sessions, say) instead of the one ts falls in.
//	advance [wm=MS|inf] [pt=MS]
//	    moves the clocks, then evaluates every window in order of max timestamp.
//	state
//	    prints each window's trigger state, Finished and NextProcessingTime.
//	merge w=(A,B,...) into=NAME max=MS
//	    merges the windows' states (Merge) and buffers into window NAME.
//
// Output lines: "fire W: values (sum S)" for a pane, "expire W: ..." for a window's
// expiry and its final pane, "drop W: V (why)" for a value the window refuses.
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := &harness{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return h.run(t, d)
		})
	})
}

type harness struct {
	m        *Machine
	fixed    int64
	lateness int64
	now      Time
	wins     []*win
	out      []string
}

type win struct {
	name  string
	max   int64
	state []byte
	buf   []string
}

func (h *harness) printf(format string, args ...any) {
	h.out = append(h.out, fmt.Sprintf(format, args...))
}

func (h *harness) run(t *testing.T, d *datadriven.TestData) string {
	h.out = nil
	switch d.Cmd {
	case "trigger":
		h.fixed, h.lateness = 0, 0
		d.MaybeScanArgs(t, "fixed", &h.fixed)
		d.MaybeScanArgs(t, "lateness", &h.lateness)
		h.m, h.wins, h.now = nil, nil, Time{Watermark: math.MinInt64}
		p, err := parseTrigger(d.Input)
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		m, err := New(p)
		if err != nil {
			return "error: " + err.Error()
		}
		h.m = m
		return m.String()
	case "element":
		var ts int64
		d.ScanArgs(t, "ts", &ts)
		arg, _ := d.Arg("v")
		w := h.window(t, d, ts)
		for _, v := range arg.Vals {
			h.element(t, w, v)
		}
	case "advance":
		if arg, ok := d.Arg("wm"); ok {
			h.now.Watermark = parseTime(t, arg.SingleVal(t))
		}
		if arg, ok := d.Arg("pt"); ok {
			h.now.ProcessingTime = parseTime(t, arg.SingleVal(t))
		}
		h.evaluate(t)
	case "state":
		for _, w := range h.wins {
			h.describe(w, h.decode(t, w))
		}
	case "merge":
		h.merge(t, d)
	default:
		d.Fatalf(t, "unknown directive %q", d.Cmd)
	}
	if len(h.out) == 0 {
		return "ok"
	}
	return strings.Join(h.out, "\n")
}

// window finds or creates the window an element at ts goes to.
func (h *harness) window(t *testing.T, d *datadriven.TestData, ts int64) *win {
	var name string
	var wmax int64
	switch {
	case d.HasArg("w"):
		d.ScanArgs(t, "w", &name)
		d.ScanArgs(t, "max", &wmax)
	case h.fixed > 0:
		start := ts - ((ts%h.fixed)+h.fixed)%h.fixed
		name, wmax = fmt.Sprintf("[%d,%d)", start, start+h.fixed), start+h.fixed-1
	default:
		name, wmax = "global", int64(mtime.EndOfGlobalWindowTime)
	}
	for _, w := range h.wins {
		if w.name == name {
			return w
		}
	}
	w := &win{name: name, max: wmax}
	if !h.expired(w) {
		h.add(w, h.m.NewState())
	}
	return w
}

func (h *harness) add(w *win, s *State) {
	h.encode(w, s)
	h.wins = append(h.wins, w)
	slices.SortStableFunc(h.wins, func(a, b *win) int { return cmp.Compare(a.max, b.max) })
}

func (h *harness) expired(w *win) bool {
	return h.now.Watermark > addSat(w.max, h.lateness)
}

func (h *harness) element(t *testing.T, w *win, v string) {
	if h.expired(w) {
		h.printf("drop %s: %s (expired)", w.name, v)
		return
	}
	s := h.decode(t, w)
	if h.m.Finished(s) {
		h.printf("drop %s: %s (finished)", w.name, v)
		return
	}
	w.buf = append(w.buf, v)
	h.m.OnElement(s, w.max, h.now)
	h.fireIfReady(w, s)
	h.encode(w, s)
}

func (h *harness) fireIfReady(w *win, s *State) {
	if !h.m.ShouldFire(s, w.max, h.now) {
		return
	}
	h.printf("fire %s: %s", w.name, pane(w.buf))
	w.buf = nil
	h.m.OnFire(s, w.max, h.now)
}

// evaluate is the caller's pass after a time advance: fire what is ready, then close
// the windows that expired, with their final pane.
func (h *harness) evaluate(t *testing.T) {
	open := h.wins[:0]
	for _, w := range h.wins {
		s := h.decode(t, w)
		if !h.m.Finished(s) {
			h.fireIfReady(w, s)
			h.encode(w, s)
		}
		if !h.expired(w) {
			open = append(open, w)
			continue
		}
		switch {
		case h.m.Finished(s):
			h.printf("expire %s: finished", w.name)
		case len(w.buf) > 0:
			h.printf("expire %s: final pane %s", w.name, pane(w.buf))
		default:
			h.printf("expire %s: nothing left", w.name)
		}
	}
	h.wins = open
}

func (h *harness) merge(t *testing.T, d *datadriven.TestData) {
	var into string
	var wmax int64
	d.ScanArgs(t, "into", &into)
	d.ScanArgs(t, "max", &wmax)
	arg, _ := d.Arg("w")
	var states []*State
	merged := &win{name: into, max: wmax}
	for _, name := range arg.Vals {
		k := slices.IndexFunc(h.wins, func(w *win) bool { return w.name == name })
		if k < 0 {
			d.Fatalf(t, "no window %q", name)
		}
		states = append(states, h.decode(t, h.wins[k]))
		merged.buf = append(merged.buf, h.wins[k].buf...)
		h.wins = slices.Delete(h.wins, k, k+1)
	}
	s := h.m.Merge(states, wmax, h.now)
	h.add(merged, s)
	h.describe(merged, s)
	if h.m.ShouldFire(s, wmax, h.now) {
		h.printf("  ready to fire")
	}
}

func (h *harness) decode(t *testing.T, w *win) *State {
	s, err := h.m.DecodeState(w.state)
	if err != nil {
		t.Fatalf("window %s: %v", w.name, err)
	}
	if again, _ := s.AppendBinary(nil); !bytes.Equal(again, w.state) {
		t.Fatalf("window %s: state %x re-encodes as %x", w.name, w.state, again)
	}
	return s
}

func (h *harness) encode(w *win, s *State) {
	w.state, _ = s.AppendBinary(w.state[:0])
}

// describe prints a window's state: one line for the window, then the tree.
func (h *harness) describe(w *win, s *State) {
	status := "open"
	if h.m.Finished(s) {
		status = "finished"
	}
	h.printf("%s: %s, %d buffered, next-pt=%s", w.name, status, len(w.buf),
		fmtTime(h.m.NextProcessingTime(s, w.max)))
	var walk func(i, depth int, role string)
	walk = func(i, depth int, role string) {
		n, ns := &h.m.nodes[i], s.nodes[i]
		line := strings.Repeat("  ", depth+1) + role + h.m.head(i)
		if ns.finished {
			line += " finished"
		}
		switch {
		case ns.armed:
			line += " armed@" + fmtTime(ns.n)
		case ns.n != 0:
			line += fmt.Sprintf(" n=%d", ns.n)
		}
		h.out = append(h.out, line)
		for k, c := range n.subs {
			walk(c, depth+1, subRole(n, k))
		}
	}
	walk(0, 0, "")
}

// head is node i's name without its sub-triggers.
func (m *Machine) head(i int) string {
	switch n := &m.nodes[i]; n.kind {
	case kindEndOfWindowPhased:
		return "AfterEndOfWindow"
	case kindAfterAll, kindAfterAny, kindAfterEach, kindRepeat, kindOrFinally:
		s := m.render(i)
		return s[:strings.IndexByte(s, '(')]
	}
	return m.render(i)
}

func subRole(n *node, k int) string {
	switch n.kind {
	case kindEndOfWindowPhased:
		return []string{"early: ", "late: "}[k]
	case kindOrFinally:
		return []string{"main: ", "finally: "}[k]
	}
	return ""
}

func pane(vals []string) string {
	if len(vals) == 0 {
		return "(empty)"
	}
	sum := 0.0
	for _, v := range vals {
		f, _ := strconv.ParseFloat(v, 64)
		sum += f
	}
	return fmt.Sprintf("%s (sum %g)", strings.Join(vals, " "), sum)
}

func parseTime(t *testing.T, s string) int64 {
	switch s {
	case "inf":
		return math.MaxInt64
	case "-inf":
		return math.MinInt64
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fmtTime(v int64) string {
	switch v {
	case math.MaxInt64:
		return "inf"
	case math.MinInt64:
		return "-inf"
	}
	return strconv.FormatInt(v, 10)
}
