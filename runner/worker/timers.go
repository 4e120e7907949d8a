package worker

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"math"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/fnharness"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/shuffle"
	"github.com/sluice-runner/sluice/state"
)

// TimerFamily is one timer family of a stage, with the codec of its timers.
type TimerFamily struct {
	fnharness.TimerFamilyRef
	Domain pipepb.TimeDomain_Enum
	Codec  *wire.TimerCodec
}

// TimerSet holds the timers a stage's SDK has set and not yet seen fire: one per (family,
// window, key, tag), the last set or clear winning, as Beam requires (the SDK only
// de-duplicates within a bundle). Each timer is written through to the store, so timers
// live in the task's state backend (Pebble by default); an in-memory index orders them by
// fire time per domain and by watermark hold. A TimerSet belongs to one task goroutine.
type TimerSet struct {
	families  []TimerFamily
	store     state.Store
	keyGroups int

	pending map[string]*pendingTimer // by identity (see identity)
	fires   [2]timerHeap             // by fire time: [0] event time, [1] processing time
	holds   timerHeap                // by hold time
	seq     uint64
	dec     wire.Timer
	one     [1]wire.Window
	buf     []byte
}

// pendingTimer is one set timer and its encoding, which goes back to the SDK unchanged
// when it fires.
type pendingTimer struct {
	family     int
	fire, hold int64
	seq        uint64
	encoded    []byte
}

// NewTimerSet returns an empty set for the families, writing through to store; keyGroups
// is the job's max parallelism (timers are laid out by the key group of their key).
func NewTimerSet(families []TimerFamily, store state.Store, keyGroups int) *TimerSet {
	return &TimerSet{families: families, store: store, keyGroups: keyGroups, pending: map[string]*pendingTimer{}}
}

// Families returns the references of every family, for bundles to expect and close.
func (s *TimerSet) Families() []fnharness.TimerFamilyRef {
	refs := make([]fnharness.TimerFamilyRef, len(s.families))
	for i, f := range s.families {
		refs[i] = f.TimerFamilyRef
	}
	return refs
}

func (s *TimerSet) family(ref fnharness.TimerFamilyRef) (int, error) {
	for i, f := range s.families {
		if f.TimerFamilyRef == ref {
			return i, nil
		}
	}
	return 0, fmt.Errorf("the SDK sent timers for family %q of transform %q, which the stage does not declare", ref.Family, ref.TransformID)
}

// Apply records one encoded timer the SDK sent: a set replaces the pending timer with the
// same identity, a clear removes it. A timer in several windows is one timer per window.
func (s *TimerSet) Apply(ref fnharness.TimerFamilyRef, rec []byte) error {
	fi, err := s.family(ref)
	if err != nil {
		return err
	}
	f := s.families[fi]
	if _, err := f.Codec.Decode(rec, &s.dec); err != nil {
		return fmt.Errorf("timer family %q of transform %q: %w", ref.Family, ref.TransformID, err)
	}
	t := s.dec
	for _, w := range t.Windows {
		id := s.identity(fi, f.Codec, t, w)
		if t.Clear {
			if err := s.remove(id); err != nil {
				return err
			}
			continue
		}
		enc := rec
		if len(t.Windows) > 1 {
			s.one[0] = w
			one := t
			one.Windows = s.one[:]
			enc = f.Codec.Append(nil, one)
		}
		if err := s.set(id, &pendingTimer{family: fi, fire: t.Fire, hold: t.Hold, encoded: append([]byte(nil), enc...)}); err != nil {
			return err
		}
	}
	return nil
}

// identity is what makes two timers the same: family, window, key and tag. It starts with
// the key's key group, as state keys do, and is the timer's key in the store. (The timer
// coder length-prefixes keys the runner does not know, as the wire does, so the key group
// is the one partitioning sent the key to.)
func (s *TimerSet) identity(family int, c *wire.TimerCodec, t wire.Timer, w wire.Window) string {
	b := binary.BigEndian.AppendUint16(s.buf[:0], uint16(shuffle.KeyGroup(t.Key, s.keyGroups)))
	b = binary.AppendUvarint(b, uint64(family))
	at := len(b)
	b = c.Window.Append(append(b, 0, 0, 0, 0), w)
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	b = binary.AppendUvarint(b, uint64(len(t.Key)))
	b = append(b, t.Key...)
	b = append(b, t.Tag...)
	s.buf = b
	return string(b)
}

func (s *TimerSet) set(id string, p *pendingTimer) error {
	_, replaces := s.pending[id]
	s.seq++
	p.seq = s.seq
	s.pending[id] = p
	heap.Push(&s.fires[s.domainIndex(p.family)], timerRef{ts: p.fire, id: id, seq: p.seq})
	heap.Push(&s.holds, timerRef{ts: p.hold, id: id, seq: p.seq})
	if s.holds.Len() > 2*len(s.pending)+1024 {
		s.compact()
	}
	key := []byte(id)
	if replaces {
		if err := s.store.ClearBag(key); err != nil {
			return err
		}
	}
	return s.store.AppendBag(key, binary.AppendUvarint(append([]byte(nil), p.encoded...), uint64(p.family)))
}

func (s *TimerSet) remove(id string) error {
	if _, ok := s.pending[id]; !ok {
		return nil
	}
	delete(s.pending, id)
	return s.store.ClearBag([]byte(id))
}

func (s *TimerSet) domainIndex(family int) int {
	if s.families[family].Domain == pipepb.TimeDomain_PROCESSING_TIME {
		return 1
	}
	return 0
}

// FiredTimer is a timer taken out of the set to fire.
type FiredTimer struct {
	Family  fnharness.TimerFamilyRef
	Encoded []byte
}

// TakeDue removes and returns, in fire-time order, the timers of domain that are due:
// event-time timers before the watermark now (all of them at end of input), processing-time
// timers at or before the processing time now.
func (s *TimerSet) TakeDue(domain pipepb.TimeDomain_Enum, now int64) ([]FiredTimer, error) {
	h := &s.fires[0]
	due := func(ts int64) bool { return ts < now || now == math.MaxInt64 }
	if domain == pipepb.TimeDomain_PROCESSING_TIME {
		h = &s.fires[1]
		due = func(ts int64) bool { return ts <= now }
	}
	var out []FiredTimer
	for h.Len() > 0 {
		top := (*h)[0]
		p := s.pending[top.id]
		if p == nil || p.seq != top.seq {
			heap.Pop(h) // replaced or cleared since
			continue
		}
		if !due(top.ts) {
			break
		}
		heap.Pop(h)
		if err := s.remove(top.id); err != nil {
			return nil, err
		}
		out = append(out, FiredTimer{Family: s.families[p.family].TimerFamilyRef, Encoded: p.encoded})
	}
	return out, nil
}

// Next returns the fire time of the earliest pending timer of domain (math.MaxInt64 if none).
func (s *TimerSet) Next(domain pipepb.TimeDomain_Enum) int64 {
	i := 0
	if domain == pipepb.TimeDomain_PROCESSING_TIME {
		i = 1
	}
	return s.top(&s.fires[i])
}

// Hold is the earliest output timestamp of a pending timer: the stage's output watermark
// must not pass it before the timer fires (math.MaxInt64 if none).
func (s *TimerSet) Hold() int64 { return s.top(&s.holds) }

// Len returns the number of pending timers.
func (s *TimerSet) Len() int { return len(s.pending) }

// top drops stale entries off h and returns its earliest time.
func (s *TimerSet) top(h *timerHeap) int64 {
	for h.Len() > 0 {
		top := (*h)[0]
		if p := s.pending[top.id]; p != nil && p.seq == top.seq {
			return top.ts
		}
		heap.Pop(h)
	}
	return math.MaxInt64
}

// compact rebuilds the heaps from the pending timers: a timer re-set over and over leaves
// stale entries behind that only reach the top when their time comes.
func (s *TimerSet) compact() {
	s.fires[0], s.fires[1], s.holds = s.fires[0][:0], s.fires[1][:0], s.holds[:0]
	for id, p := range s.pending {
		s.fires[s.domainIndex(p.family)] = append(s.fires[s.domainIndex(p.family)], timerRef{ts: p.fire, id: id, seq: p.seq})
		s.holds = append(s.holds, timerRef{ts: p.hold, id: id, seq: p.seq})
	}
	heap.Init(&s.fires[0])
	heap.Init(&s.fires[1])
	heap.Init(&s.holds)
}

// timerRef is a heap entry; it is stale once the timer it names was replaced or removed
// (its seq no longer matches), and is then dropped when it reaches the top.
type timerRef struct {
	ts  int64
	id  string
	seq uint64
}

type timerHeap []timerRef

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].ts != h[j].ts {
		return h[i].ts < h[j].ts
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timerRef)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
