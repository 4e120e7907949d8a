package state

import (
	"bytes"
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
