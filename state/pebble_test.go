package state

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

func TestKeyEncodingKeepsOrderAndIsPrefixFree(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	alphabet := []byte{0x00, 0x01, 0x02, 'a', 0xfe, 0xff}
	word := func() []byte {
		b := make([]byte, r.IntN(5))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return b
	}
	for range 20000 {
		a, b := word(), word()
		ea, eb := appendTerminated(nil, a), appendTerminated(nil, b)
		if got, want := bytes.Compare(ea, eb), bytes.Compare(a, b); got != want {
			t.Fatalf("compare(enc(%x), enc(%x)) = %d, want %d", a, b, got, want)
		}
		if !bytes.Equal(a, b) && (bytes.HasPrefix(ea, eb) || bytes.HasPrefix(eb, ea)) {
			t.Fatalf("enc(%x) = %x and enc(%x) = %x: one is a prefix of the other", a, ea, b, eb)
		}
		// The encoding of a prefix (unterminated) prefixes exactly the keys it should.
		if got, want := bytes.HasPrefix(ea, appendEscaped(nil, b)), bytes.HasPrefix(a, b); got != want {
			t.Fatalf("escaped %x prefixes enc(%x): %v, but %x prefixes %x: %v", b, a, got, b, a, want)
		}
		dec, n, err := unescapeTerminated(append(ea, 0x00, 0x07))
		if err != nil || !bytes.Equal(dec, a) || n != len(ea) {
			t.Fatalf("decoding enc(%x) = %x, %d, %v", a, dec, n, err)
		}
	}
}

func TestNamespacesNest(t *testing.T) {
	job, task := Namespace("j1"), Namespace("j1", "s", "0")
	if !bytes.HasPrefix(task, job) {
		t.Errorf("a task's namespace %x does not start with its job's %x", task, job)
	}
	if bytes.HasPrefix(Namespace("j10", "s"), job) || bytes.HasPrefix(Namespace("j1\x00", "s"), job) {
		t.Error("another job's namespace starts with j1's")
	}
	// A store's bags are apart from the namespaces nested under it.
	if bytes.HasPrefix(keyspaceOf(Namespace("j1", "")), bagsPrefix(job)) ||
		bytes.HasPrefix(keyspaceOf(Namespace("j1", "\x00")), bagsPrefix(job)) {
		t.Error("a nested namespace falls among its parent's bags")
	}
}

func TestPebbleStoreCloseAndDatabaseClose(t *testing.T) {
	p := newPebbleBackend(t)
	ns := Namespace("j", "s", "0", "user")
	a := p.db.Store(ns)
	if err := a.AppendBag([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.AppendBag([]byte("k"), []byte("w")); !errors.Is(err, ErrClosed) {
		t.Errorf("append to a closed store: %v, want ErrClosed", err)
	}
	b := p.db.Store(ns) // the data outlives a store of its namespace
	if n, err := b.BagSize([]byte("k")); n != 1 || err != nil {
		t.Errorf("BagSize after another store of the namespace closed = %d, %v; want 1", n, err)
	}
	if err := p.db.DropNamespace(nil); err == nil {
		t.Error("DropNamespace(nil) dropped everything")
	}
	if empty, err := p.db.NamespaceEmpty(Namespace("j")); empty || err != nil {
		t.Errorf("NamespaceEmpty(j) = %v, %v with a value in it", empty, err)
	}
	if err := p.db.DropNamespace(Namespace("j")); err != nil {
		t.Fatal(err)
	}
	if empty, err := p.db.NamespaceEmpty(Namespace("j")); !empty || err != nil {
		t.Errorf("NamespaceEmpty(j) after the drop = %v, %v", empty, err)
	}

	if err := p.reopen(); err != nil {
		t.Fatal(err)
	}
	c := p.db.Store(ns)
	if err := c.AppendBag([]byte("k"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := p.db.DropAll(); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.BagSize([]byte("k")); n != 0 {
		t.Errorf("BagSize after DropAll = %d", n)
	}
	old := p.db
	if err := p.reopen(); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := c.AppendBag([]byte("k"), []byte("y")); !errors.Is(err, ErrClosed) {
		t.Errorf("append through a closed database: %v, want ErrClosed", err)
	}
	if err := c.ScanKeys(nil, func([]byte) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("scan through a closed database: %v, want ErrClosed", err)
	}
}

func TestPebbleSequenceLeaseSurvivesReopen(t *testing.T) {
	p := newPebbleBackend(t)
	s := p.store("j/s/0/main")
	if err := s.AppendBag([]byte("k"), []byte("0")); err != nil {
		t.Fatal(err)
	}
	if got := p.db.leased.Load(); got != seqLease {
		t.Errorf("lease after the first append = %d, want %d", got, seqLease)
	}
	if err := p.reopen(); err != nil {
		t.Fatal(err)
	}
	if got := p.db.next.Load(); got != seqLease {
		t.Errorf("next sequence after a reopen = %d, want the lease %d", got, seqLease)
	}
	// Cross a lease boundary from several goroutines (each on its own bag), 50 numbers
	// after the next one.
	p.db.next.Store(p.db.leased.Load() - 50)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := p.db.Store(Namespace("j", "s", fmt.Sprint(g), "main"))
			for i := range 100 {
				if err := st.AppendBag([]byte("k"), []byte(fmt.Sprint(i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := p.reopen(); err != nil {
		t.Fatal(err)
	}
	if err := p.store("j/s/0/main").AppendBag([]byte("k"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	for g := range 4 {
		var got []string
		err := p.store(fmt.Sprintf("j/s/%d/main", g)).ReadBag([]byte("k"), func(v []byte) error {
			got = append(got, string(v))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := 100
		if g == 0 {
			want = 102
		}
		if len(got) != want {
			t.Fatalf("task %d: %d values, want %d", g, len(got), want)
		}
		start := 0
		if g == 0 {
			start = 1
		}
		for i, v := range got[start : start+100] {
			if v != fmt.Sprint(i) {
				t.Fatalf("task %d: value %d is %s: appends out of order", g, i, v)
			}
		}
		if g == 0 && (got[0] != "0" || got[101] != "1") {
			t.Errorf("task 0: first and last values %s, %s; want 0 and 1", got[0], got[101])
		}
	}
}
