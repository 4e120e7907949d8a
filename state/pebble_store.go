package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// pebbleStore is one namespace of a PebbleDB. The bag at key is the key range that starts
// with bag = prefix | esc(key) 0x00 0x01:
//
//	bag | 0x00          header: the bag's generation (uint64 BE), once it has been cleared
//	bag | 0x01 | seq    one value; seq is handed out in increasing order
//
// Values read back in append order, and no value's key is written twice. ClearBag
// single-deletes the values and sets the generation to a new sequence number, above
// theirs and below any later value's: a reader seeks from the header straight to
// bag | 0x01 | generation, past the deleted values, so a bag that is cleared and refilled
// over and over (value state) reads as fast as a new one.
type pebbleStore struct {
	db     *PebbleDB
	prefix []byte // bagsPrefix of the namespace
	closed atomic.Bool
}

func (s *pebbleStore) enter() bool {
	if s.closed.Load() {
		return false
	}
	return s.db.enter()
}

// bagStart returns the prefix of the bag at key.
func (s *pebbleStore) bagStart(key []byte) []byte {
	return appendTerminated(append(make([]byte, 0, len(s.prefix)+len(key)+12), s.prefix...), key)
}

// valuesFrom returns the key of the bag's value gen: where its live values start.
func valuesFrom(bag []byte, gen uint64) []byte {
	return binary.BigEndian.AppendUint64(append(bag[:len(bag):len(bag)], bagValue), gen)
}

// generation returns the generation in the header the iterator is at, if it is at one of
// bag's header.
func generation(it *pebble.Iterator, bag []byte) (gen uint64, isHeader bool, err error) {
	k := it.Key()
	if len(k) != len(bag)+1 || k[len(bag)] != bagHeader {
		return 0, false, nil
	}
	v, err := it.ValueAndErr()
	if err == nil && len(v) != 8 {
		err = errBadKey
	}
	if err != nil {
		return 0, true, err
	}
	return binary.BigEndian.Uint64(v), true, nil
}

// live opens an iterator over the live values of the bag at key, positioned at the first
// (ok is false when there is none). It also returns the bag's prefix.
func (s *pebbleStore) live(key []byte) (it *pebble.Iterator, ok bool, bag []byte, err error) {
	bag = s.bagStart(key)
	end := append([]byte(nil), bag...)
	end[len(end)-1]++ // the terminator 0x00 0x01 becomes 0x00 0x02
	it, err = s.db.db.NewIter(&pebble.IterOptions{LowerBound: bag, UpperBound: end})
	if err != nil {
		return nil, false, nil, err
	}
	if ok = it.First(); ok {
		gen, isHeader, err := generation(it, bag)
		if err != nil {
			return nil, false, nil, errors.Join(err, it.Close())
		}
		if isHeader {
			ok = it.SeekGE(valuesFrom(bag, gen))
		}
	}
	return it, ok, bag, nil
}

// AppendBag implements Store.
func (s *pebbleStore) AppendBag(key, value []byte) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.db.exit()
	seq, err := s.db.nextSeq()
	if err != nil {
		return err
	}
	k := appendValueKey(append(make([]byte, 0, len(s.prefix)+len(key)+13), s.prefix...), key, seq)
	return s.db.db.Set(k, value, pebble.NoSync)
}

// ReadBag implements Store. The slice passed to fn is valid until fn returns.
func (s *pebbleStore) ReadBag(key []byte, fn func(value []byte) error) error {
	return s.ReadBagFrom(key, 0, func(v []byte, _ BagCursor) error { return fn(v) })
}

// ReadBagFrom implements Store: a value's cursor is its sequence number, so resuming is
// one seek. The slice passed to fn is valid until fn returns.
func (s *pebbleStore) ReadBagFrom(key []byte, from BagCursor, fn func(value []byte, at BagCursor) error) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.db.exit()
	it, ok, bag, err := s.live(key)
	if err != nil {
		return err
	}
	// live is at the first live value: seek forward only, never back into cleared ones.
	if ok && from > 0 && valueSeq(it.Key(), bag) <= uint64(from) {
		ok = it.SeekGE(valuesFrom(bag, uint64(from)+1))
	}
	for ; ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err == nil {
			err = fn(v, BagCursor(valueSeq(it.Key(), bag)))
		}
		if err != nil {
			return errors.Join(err, it.Close())
		}
	}
	return it.Close()
}

// valueSeq is the sequence number in k, the key of one of bag's values.
func valueSeq(k, bag []byte) uint64 {
	return binary.BigEndian.Uint64(k[len(bag)+1:])
}

// BagSize implements Store.
func (s *pebbleStore) BagSize(key []byte) (int, error) {
	if !s.enter() {
		return 0, ErrClosed
	}
	defer s.db.exit()
	it, ok, _, err := s.live(key)
	if err != nil {
		return 0, err
	}
	n := 0
	for ; ok; ok = it.Next() {
		n++
	}
	return n, it.Close()
}

// ClearBag implements Store. Each value's key was written once, so a single delete
// removes it (the pair vanishes at the next flush or compaction that sees both); the new
// generation, in the same batch, lets readers skip the deleted values meanwhile.
func (s *pebbleStore) ClearBag(key []byte) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.db.exit()
	it, ok, bag, err := s.live(key)
	if err != nil {
		return err
	}
	if !ok {
		return it.Close()
	}
	b := s.db.db.NewBatch()
	for ; ok; ok = it.Next() {
		if err := b.SingleDelete(it.Key(), nil); err != nil {
			return errors.Join(err, it.Close(), b.Close())
		}
	}
	if err := it.Close(); err != nil {
		return errors.Join(err, b.Close())
	}
	gen, err := s.db.nextSeq()
	if err == nil {
		err = b.Set(append(bag, bagHeader), binary.BigEndian.AppendUint64(nil, gen), nil)
	}
	if err == nil {
		err = b.Commit(pebble.NoSync)
	}
	return errors.Join(err, b.Close())
}

// ScanKeys implements Store. The key passed to fn is fn's to keep.
func (s *pebbleStore) ScanKeys(prefix []byte, fn func(key []byte) error) error {
	if !s.enter() {
		return ErrClosed
	}
	defer s.db.exit()
	lo := appendEscaped(append([]byte(nil), s.prefix...), prefix)
	it, err := s.db.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixSuccessor(lo)})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; {
		key, n, err := unescapeTerminated(it.Key()[len(s.prefix):])
		if err != nil {
			return errors.Join(err, it.Close())
		}
		bag := append([]byte(nil), it.Key()[:len(s.prefix)+n]...)
		gen, isHeader, err := generation(it, bag)
		if err != nil {
			return errors.Join(err, it.Close())
		}
		if isHeader {
			// Past the deleted values; the bag is empty if that leaves it.
			if ok = it.SeekGE(valuesFrom(bag, gen)); !ok || !bytes.HasPrefix(it.Key(), bag) {
				continue
			}
		}
		if err := fn(key); err != nil {
			return errors.Join(err, it.Close())
		}
		bag[len(bag)-1]++ // past this bag
		ok = it.SeekGE(bag)
	}
	return it.Close()
}

// Close implements Store: later operations on s fail with ErrClosed. The data stays, and
// the database stays open.
func (s *pebbleStore) Close() error {
	s.closed.Store(true)
	return nil
}
