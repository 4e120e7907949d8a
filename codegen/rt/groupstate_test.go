package rt

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluice-runner/sluice/runner/wire"
)

// pages serves data behind token "t" in pages of size bytes, cutting values anywhere.
type pages struct {
	data  []byte
	size  int
	reads atomic.Int64 // the next page is read ahead, on another goroutine
	fail  error
}

func (p *pages) GroupPage(_ context.Context, token, cont []byte) ([]byte, []byte, error) {
	p.reads.Add(1)
	if p.fail != nil {
		return nil, nil, p.fail
	}
	if string(token) != "t" {
		return nil, nil, fmt.Errorf("unknown token %q", token)
	}
	at := 0
	if cont != nil {
		at, _ = strconv.Atoi(string(cont))
	}
	end := min(len(p.data), at+p.size)
	if end == len(p.data) {
		return p.data[at:end], nil, nil
	}
	return p.data[at:end], []byte(strconv.Itoa(end)), nil
}

// stateBackedGroup encodes inline values then a state token "t", and the values behind it.
func stateBackedGroup(inline, stored []string) (elem, rest []byte) {
	var vs [][]byte
	for _, v := range inline {
		vs = append(vs, AppendString(nil, v))
	}
	elem = wire.AppendIterableStart(nil)
	elem = wire.AppendIterableBlock(elem, vs)
	elem = wire.AppendIterableStateToken(elem, []byte("t"))
	for _, v := range stored {
		rest = AppendString(rest, v)
	}
	return elem, rest
}

func collect[V any](vs Values[V]) ([]V, error) {
	var out []V
	var err error
	for _, v := range vs.All(func(e error) { err = e }) {
		out = append(out, v)
	}
	return out, err
}

// A group's values continue in runner state: they come after the inline ones, read a
// page at a time as they are iterated, values cut across pages included.
func TestValuesReadsStateBackedRest(t *testing.T) {
	var inline, stored []string
	for i := range 5 {
		inline = append(inline, fmt.Sprint("in", i))
	}
	for i := range 500 {
		stored = append(stored, fmt.Sprintf("st%d%s", i, strings.Repeat("x", i%9)))
	}
	elem, rest := stateBackedGroup(inline, stored)
	for _, size := range []int{1, 3, 64, 10_000} {
		p := &pages{data: rest, size: size}
		vs, n, err := DecodeValues(append(elem, "next element"...), DecodeString)
		if err != nil || n != len(elem) {
			t.Fatalf("DecodeValues: %d of %d bytes, %v", n, len(elem), err)
		}
		vs = vs.In(WithGroupState(context.Background(), p))
		got, err := collect(vs)
		if err != nil {
			t.Fatalf("pages of %d: %v", size, err)
		}
		if want := append(append([]string{}, inline...), stored...); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("pages of %d: %d values, want %d", size, len(got), len(want))
		}
		if want := int64(len(rest)+size-1) / int64(size); p.reads.Load() != want {
			t.Errorf("pages of %d: %d reads, want %d", size, p.reads.Load(), want)
		}
		// Each iteration reads the rest again: a group may feed several steps.
		if again, err := collect(vs); err != nil || len(again) != len(got) {
			t.Errorf("pages of %d: second pass %d values, %v", size, len(again), err)
		}
		// A DoFn may stop iterating before the end, with the next page asked for.
		next := vs.Iter(func(err error) { t.Errorf("pages of %d: %v", size, err) })
		var v string
		for range len(inline) + 1 {
			next(&v)
		}
		if v != stored[0] {
			t.Errorf("pages of %d: first value in state %q, want %q", size, v, stored[0])
		}
	}
}

// Bytes values read from state do not share memory: a DoFn may keep them.
func TestValuesBytesFromStateAreTheirOwn(t *testing.T) {
	var rest []byte
	for _, v := range []string{"aaaa", "bbbb", "cccc", "dddd"} {
		rest = AppendBytes(rest, []byte(v))
	}
	elem := wire.AppendIterableStateToken(wire.AppendIterableStart(nil), []byte("t"))
	vs, _, err := DecodeValues(elem, DecodeBytes)
	if err != nil {
		t.Fatal(err)
	}
	got, err := collect(vs.In(WithGroupState(context.Background(), &pages{data: rest, size: 3})))
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i][0] = 'X'
	}
	var s []string
	for _, b := range got {
		s = append(s, string(b))
	}
	if strings.Join(s, ",") != "Xaaa,Xbbb,Xccc,Xddd" {
		t.Errorf("values after writing each one's first byte: %q", s)
	}
}

// A failed read ends the iteration and goes to the bundle's fail; so does a group whose
// last page ends inside a value, and a group read without a bundle's reader.
func TestValuesStateErrors(t *testing.T) {
	elem, rest := stateBackedGroup([]string{"a"}, []string{"b", "c"})
	vs, _, err := DecodeValues(elem, DecodeString)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		ctx  context.Context
		want string
	}{
		"read fails": {WithGroupState(context.Background(), &pages{data: rest, size: 2, fail: errors.New("the runner is gone")}), "the runner is gone"},
		"truncated":  {WithGroupState(context.Background(), &pages{data: rest[:len(rest)-1], size: 2}), "EOF"},
		"no reader":  {context.Background(), "no group state reader"},
		"not bound":  {nil, "outside a bundle"},
	} {
		v := vs
		if c.ctx != nil {
			v = vs.In(c.ctx)
		}
		got, err := collect(v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q, %v; want an error saying %q", name, got, err, c.want)
		}
		if len(got) == 0 || got[0] != "a" {
			t.Errorf("%s: %q, want the inline value first", name, got)
		}
		next := v.Iter(func(error) {})
		var x string
		for next(&x) {
		}
		if next(&x) {
			t.Errorf("%s: the iterator yields again after it ended", name)
		}
	}
	if _, _, err := DecodeIterable(elem, DecodeString); err == nil {
		t.Error("DecodeIterable decoded a state-backed iterable")
	}
	inline, n, err := DecodeValues(AppendIterable(nil, []string{"x", "y"}, AppendString), DecodeString)
	if err != nil || n != 8 || strings.Join(inline.Inline, ",") != "x,y" || inline.rest != nil {
		t.Errorf("an inline iterable: %+v, %d bytes, %v", inline, n, err)
	}
}
