package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// ErrClosed is returned by the operations of a closed store or of a store whose database
// is closed.
var ErrClosed = errors.New("state: closed")

// PebbleOptions tune OpenPebble; the zero value is a good default.
type PebbleOptions struct {
	// CacheBytes is the block cache size (default 256 MiB: side inputs are read page by
	// page from their first value on, so they should stay in the cache).
	CacheBytes int64
	// MemTableBytes is the size of one memtable (default 32 MiB).
	MemTableBytes uint64
	// Logger receives Pebble's log lines: its info lines at debug level (default slog.Default()).
	Logger *slog.Logger
}

// PebbleDB is the one Pebble database of a worker process. Each task store is a namespace
// of it (Store); a finished job's or task's state goes with one range deletion
// (DropNamespace). Writes are not synced: state becomes durable through checkpoints, not
// through the write-ahead log, but Close leaves everything readable by the next OpenPebble
// of the same directory.
//
// Its methods and those of its stores may be called from any goroutine.
type PebbleDB struct {
	db  *pebble.DB
	dir string

	// Every bag value has its own sequence number, handed out in increasing order: next
	// is the next one. Numbers below leased may be handed out without writing; seqKey
	// holds leased on disk, written before any value that uses a number under it, so a
	// reopened database never reuses a number (and never overwrites a value).
	leaseMu sync.Mutex
	next    atomic.Uint64
	leased  atomic.Uint64

	// ops counts the operations in progress; Close sets closed, then waits for them, so
	// that no operation reaches Pebble after it is closed.
	ops    atomic.Int64
	closed atomic.Bool
}

// seqLease is how many sequence numbers one write of seqKey covers.
const seqLease = 1 << 16

// closeWait bounds how long Close waits for operations in progress (a read whose callback
// blocks, in a job that did not stop).
const closeWait = 10 * time.Second

// OpenPebble opens (or creates) the Pebble database in dir.
func OpenPebble(dir string, o PebbleOptions) (*PebbleDB, error) {
	if o.CacheBytes <= 0 {
		o.CacheBytes = 256 << 20
	}
	if o.MemTableBytes == 0 {
		o.MemTableBytes = 32 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	cache := pebble.NewCache(o.CacheBytes)
	defer cache.Unref() // the database holds its own reference
	db, err := pebble.Open(dir, &pebble.Options{
		Cache:              cache,
		MemTableSize:       o.MemTableBytes,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleLogger{o.Logger},
	})
	if err != nil {
		return nil, fmt.Errorf("opening the state database in %s: %w", dir, err)
	}
	p := &PebbleDB{db: db, dir: dir}
	v, closer, err := db.Get(seqKey)
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return nil, errors.Join(fmt.Errorf("reading the state database in %s: %w", dir, err), db.Close())
	default:
		rec := fmt.Sprintf("%x", v)
		ok := len(v) == 8
		if ok {
			p.next.Store(binary.BigEndian.Uint64(v))
			p.leased.Store(binary.BigEndian.Uint64(v))
		}
		if err := closer.Close(); err != nil || !ok {
			return nil, errors.Join(fmt.Errorf("state database in %s: bad sequence record %s", dir, rec), err, db.Close())
		}
	}
	return p, nil
}

// Dir is the database's directory.
func (p *PebbleDB) Dir() string { return p.dir }

// enter registers an operation; it is false once the database is closed.
func (p *PebbleDB) enter() bool {
	p.ops.Add(1)
	if p.closed.Load() {
		p.ops.Add(-1)
		return false
	}
	return true
}

func (p *PebbleDB) exit() { p.ops.Add(-1) }

// nextSeq hands out the sequence number of a new bag value.
func (p *PebbleDB) nextSeq() (uint64, error) {
	n := p.next.Add(1) - 1
	if n < p.leased.Load() {
		return n, nil
	}
	p.leaseMu.Lock()
	defer p.leaseMu.Unlock()
	if n < p.leased.Load() {
		return n, nil
	}
	hw := n + seqLease
	if err := p.db.Set(seqKey, binary.BigEndian.AppendUint64(nil, hw), pebble.NoSync); err != nil {
		return 0, fmt.Errorf("state: writing the sequence lease: %w", err)
	}
	p.leased.Store(hw)
	return n, nil
}

// Store returns the store of namespace ns (see Namespace). Stores of the same namespace
// share their data; closing one closes neither the database nor the others.
func (p *PebbleDB) Store(ns []byte) Store {
	return &pebbleStore{db: p, prefix: bagsPrefix(ns)}
}

// DropNamespace deletes every key of namespace ns and of the namespaces under it, with one
// range deletion.
func (p *PebbleDB) DropNamespace(ns []byte) error {
	if len(ns) == 0 {
		return errors.New("state: DropNamespace needs a namespace (use DropAll to drop every one)")
	}
	lo := keyspaceOf(ns)
	return p.deleteRange(lo, prefixSuccessor(lo))
}

// DropAll deletes the data of every namespace.
func (p *PebbleDB) DropAll() error {
	return p.deleteRange([]byte{nsSpace}, []byte{nsSpace + 1})
}

func (p *PebbleDB) deleteRange(lo, hi []byte) error {
	if !p.enter() {
		return ErrClosed
	}
	defer p.exit()
	return p.db.DeleteRange(lo, hi, pebble.NoSync)
}

// NamespaceEmpty reports whether namespace ns, and every namespace under it, holds no data.
func (p *PebbleDB) NamespaceEmpty(ns []byte) (bool, error) {
	if !p.enter() {
		return false, ErrClosed
	}
	defer p.exit()
	lo := keyspaceOf(ns)
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixSuccessor(lo)})
	if err != nil {
		return false, err
	}
	empty := !it.First()
	return empty, it.Close()
}

// Close waits for operations in progress (up to closeWait), then closes the database. Its
// stores fail with ErrClosed from then on.
func (p *PebbleDB) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	deadline := time.Now().Add(closeWait)
	for p.ops.Load() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("state: %d operations still in progress after %v; the database in %s is left open", p.ops.Load(), closeWait, p.dir)
		}
		time.Sleep(time.Millisecond)
	}
	return p.db.Close()
}

// pebbleLogger sends Pebble's log lines to slog.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error("pebble: " + fmt.Sprintf(format, args...))
}

// Fatalf is called on corruption or a broken invariant: Pebble cannot go on.
func (l pebbleLogger) Fatalf(format string, args ...any) {
	msg := "pebble: " + fmt.Sprintf(format, args...)
	l.log.Error(msg)
	panic(msg)
}
