package state

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// testBackend is what the data-driven and metamorphic tests drive: stores by namespace
// path ("job/stage/0/user"), dropped by path prefix like PebbleDB.DropNamespace.
type testBackend interface {
	store(path string) Store
	drop(path string) error
	// reopen closes and reopens the database (nothing for memory).
	reopen() error
}

type memBackend struct{ stores map[string]*MemStore }

func newMemBackend() *memBackend { return &memBackend{stores: map[string]*MemStore{}} }

func (m *memBackend) store(path string) Store {
	s := m.stores[path]
	if s == nil {
		s = NewMemStore()
		m.stores[path] = s
	}
	return s
}

func (m *memBackend) drop(path string) error {
	for p := range m.stores {
		if p == path || strings.HasPrefix(p, path+"/") {
			delete(m.stores, p)
		}
	}
	return nil
}

func (m *memBackend) reopen() error { return nil }

type pebbleBackend struct {
	dir    string
	db     *PebbleDB
	stores map[string]Store
}

func newPebbleBackend(t testing.TB) *pebbleBackend {
	t.Helper()
	p := &pebbleBackend{dir: t.TempDir(), stores: map[string]Store{}}
	if err := p.open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.db.Close(); err != nil {
			t.Errorf("closing the database: %v", err)
		}
	})
	return p
}

func (p *pebbleBackend) open() error {
	db, err := OpenPebble(p.dir, PebbleOptions{CacheBytes: 4 << 20, MemTableBytes: 4 << 20})
	if err != nil {
		return err
	}
	p.db = db
	clear(p.stores)
	return nil
}

func splitPath(path string) []byte { return Namespace(strings.Split(path, "/")...) }

func (p *pebbleBackend) store(path string) Store {
	s := p.stores[path]
	if s == nil {
		s = p.db.Store(splitPath(path))
		p.stores[path] = s
	}
	return s
}

func (p *pebbleBackend) drop(path string) error { return p.db.DropNamespace(splitPath(path)) }

func (p *pebbleBackend) reopen() error {
	if err := p.db.Close(); err != nil {
		return err
	}
	return p.open()
}

// show prints b as is when it is plain printable ASCII without spaces or quotes, else
// Go-quoted; "" for an empty string.
func show(b []byte) string {
	for _, c := range b {
		if c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.Quote(string(b))
		}
	}
	if len(b) == 0 {
		return `""`
	}
	return string(b)
}

// parseArgs splits an operation line into words; a word in double quotes is Go-unquoted
// (so keys and values can hold any byte, "" is empty).
func parseArgs(line string) ([]string, error) {
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] != '"' {
			word, rest, _ := strings.Cut(line, " ")
			out = append(out, word)
			line = rest
			continue
		}
		q, err := strconv.QuotedPrefix(line)
		if err != nil {
			return nil, fmt.Errorf("bad quoted word in %q: %w", line, err)
		}
		w, _ := strconv.Unquote(q)
		out = append(out, w)
		line = line[len(q):]
	}
	return out, nil
}

// apply runs one operation on s and returns what it prints: nothing for a write that
// succeeded.
func apply(s Store, op string, args []string) (string, error) {
	need := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("%s takes %d arguments, got %d", op, n, len(args))
		}
		return nil
	}
	var out strings.Builder
	var err error
	switch op {
	case "append":
		if err = need(2); err == nil {
			err = s.AppendBag([]byte(args[0]), []byte(args[1]))
		}
	case "clear":
		if err = need(1); err == nil {
			err = s.ClearBag([]byte(args[0]))
		}
	case "read":
		if err = need(1); err == nil {
			fmt.Fprintf(&out, "read %s:", show([]byte(args[0])))
			err = s.ReadBag([]byte(args[0]), func(v []byte) error {
				out.WriteString(" " + show(v))
				return nil
			})
		}
	case "pages":
		// pages KEY N reads the bag in pages of at most N values, each resuming after the
		// cursor of the last value of the one before.
		if err = need(2); err == nil {
			var n int
			if n, err = strconv.Atoi(args[1]); err != nil || n < 1 {
				return "", fmt.Errorf("pages: bad page size %q", args[1])
			}
			fmt.Fprintf(&out, "pages %s:", show([]byte(args[0])))
			err = readPages([]byte(args[0]), n, s, &out)
		}
	case "size":
		if err = need(1); err == nil {
			var n int
			n, err = s.BagSize([]byte(args[0]))
			fmt.Fprintf(&out, "size %s: %d", show([]byte(args[0])), n)
		}
	case "scan":
		if len(args) > 1 {
			return "", fmt.Errorf("scan takes at most a prefix")
		}
		var prefix []byte
		if len(args) == 1 {
			prefix = []byte(args[0])
		}
		fmt.Fprintf(&out, "scan %s:", show(prefix))
		err = s.ScanKeys(prefix, func(k []byte) error {
			out.WriteString(" " + show(k))
			return nil
		})
	case "clear-range":
		// clear-range PREFIX FROM TO clears, inside a scan of PREFIX, every bag whose
		// key is in [FROM, TO): how ordered-list state clears a range.
		if err = need(3); err == nil {
			from, to := []byte(args[1]), []byte(args[2])
			err = s.ScanKeys([]byte(args[0]), func(k []byte) error {
				if bytes.Compare(k, from) >= 0 && bytes.Compare(k, to) < 0 {
					return s.ClearBag(k)
				}
				return nil
			})
		}
	default:
		return "", fmt.Errorf("unknown operation %q", op)
	}
	if err != nil {
		return "", err
	}
	return out.String(), nil
}

// readPages reads the bag at key in pages of n values through ReadBagFrom, printing each.
func readPages(key []byte, n int, s Store, out *strings.Builder) error {
	errFull := errors.New("page full")
	var from BagCursor
	for {
		var page []string
		err := s.ReadBagFrom(key, from, func(v []byte, at BagCursor) error {
			if len(page) == n {
				return errFull
			}
			page, from = append(page, show(v)), at
			return nil
		})
		if err != nil && !errors.Is(err, errFull) {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		fmt.Fprintf(out, " [%s]", strings.Join(page, " "))
	}
}

// A cursor stays meaningful while its bag changes: values appended after it are read, and
// after a clear only the values appended since are.
func TestReadBagFromResumesAcrossChanges(t *testing.T) {
	for _, name := range []string{"memory", "pebble"} {
		t.Run(name, func(t *testing.T) {
			var b testBackend
			if name == "memory" {
				b = newMemBackend()
			} else {
				b = newPebbleBackend(t)
			}
			s := b.store("job/stage/0/main")
			key := []byte("bag")
			read := func(from BagCursor) (vals []string, last BagCursor) {
				t.Helper()
				last = from
				if err := s.ReadBagFrom(key, from, func(v []byte, at BagCursor) error {
					vals, last = append(vals, string(v)), at
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return vals, last
			}
			for _, v := range []string{"a", "b"} {
				if err := s.AppendBag(key, []byte(v)); err != nil {
					t.Fatal(err)
				}
			}
			got, cur := read(0)
			if fmt.Sprint(got) != "[a b]" {
				t.Fatalf("first read %v", got)
			}
			if err := s.AppendBag(key, []byte("c")); err != nil {
				t.Fatal(err)
			}
			if got, cur = read(cur); fmt.Sprint(got) != "[c]" {
				t.Fatalf("after an append, resumed read %v, want [c]", got)
			}
			if err := s.ClearBag(key); err != nil {
				t.Fatal(err)
			}
			if err := s.AppendBag(key, []byte("d")); err != nil {
				t.Fatal(err)
			}
			if got, _ = read(cur); fmt.Sprint(got) != "[d]" {
				t.Fatalf("after a clear, resumed read %v, want [d]", got)
			}
			if got, _ = read(0); fmt.Sprint(got) != "[d]" {
				t.Fatalf("after a clear, full read %v, want [d]", got)
			}
		})
	}
}
