package worker

import (
	"container/heap"
	"fmt"

	"github.com/sluice-runner/sluice/runner/window"
	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/state"
)

// StateGC drops the user state of a window once the window has expired (the input
// watermark is past its end plus the allowed lateness), as Beam requires: no element or
// timer of that window can come any more, so its state would only leak. It remembers, per
// window, the keys that appended state in it, and keeps windows ordered by expiry time.
// State in the global window is left alone (it lives as long as the job).
//
// It is used under userState's lock: noted by state requests, expired by the task between
// bundles.
type StateGC struct {
	strategy window.Strategy
	windows  wire.WindowCodec
	// stateIDs are the user state ids of each transform of the stage.
	stateIDs map[string][]string

	live     map[string]*gcWindow // by encoded window
	never    map[string]bool      // encoded windows that never expire (global)
	byExpiry gcHeap
}

type gcWindow struct {
	window string
	expiry int64 // the garbage-collection time: end of window plus allowed lateness
	keys   map[string]struct{}
}

// NewStateGC returns the GC of a stage's user state: windows decode with codec and expire
// under strategy; stateIDs lists the state ids per transform.
func NewStateGC(strategy window.Strategy, codec wire.WindowCodec, stateIDs map[string][]string) *StateGC {
	return &StateGC{strategy: strategy, windows: codec, stateIDs: stateIDs, live: map[string]*gcWindow{}, never: map[string]bool{}}
}

// note records that key holds state in the encoded window w.
func (g *StateGC) note(w, key []byte) error {
	if g == nil || g.never[string(w)] {
		return nil
	}
	gw := g.live[string(w)]
	if gw == nil {
		win, _, err := g.windows.Decode(w)
		if err != nil {
			return fmt.Errorf("user state window: %w", err)
		}
		if _, global := win.(wire.GlobalWindow); global {
			g.never[string(w)] = true
			return nil
		}
		gw = &gcWindow{window: string(w), expiry: window.GarbageCollectionTime(g.strategy, win), keys: map[string]struct{}{}}
		g.live[gw.window] = gw
		heap.Push(&g.byExpiry, gw)
	}
	gw.keys[string(key)] = struct{}{}
	return nil
}

// expire clears the state of every window expired at watermark wm and reports how many
// (window, key) pairs it cleared; keyGroup is the key group of a user key.
func (g *StateGC) expire(store state.Store, wm int64, keyGroup func(key []byte) int) (int, error) {
	if g == nil {
		return 0, nil
	}
	cleared := 0
	for g.byExpiry.Len() > 0 && g.byExpiry[0].expiry < wm {
		gw := heap.Pop(&g.byExpiry).(*gcWindow)
		delete(g.live, gw.window)
		for key := range gw.keys {
			if err := g.clear(store, []byte(gw.window), []byte(key), keyGroup([]byte(key))); err != nil {
				return cleared, err
			}
			cleared++
		}
	}
	return cleared, nil
}

// clear drops every user state of (window, key): the bags, map entries and ordered-list
// entries under each state's prefix.
func (g *StateGC) clear(store state.Store, w, key []byte, keyGroup int) error {
	for transform, ids := range g.stateIDs {
		for _, id := range ids {
			for _, kind := range []byte{kindBag, kindMultimap, kindOrderedList} {
				var keys [][]byte
				if err := store.ScanKeys(userStateKey(keyGroup, kind, transform, id, w, key), func(k []byte) error {
					keys = append(keys, k)
					return nil
				}); err != nil {
					return err
				}
				for _, k := range keys {
					if err := store.ClearBag(k); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// windows returns the number of windows holding state, for tests.
func (g *StateGC) windowsLive() int { return len(g.live) }

type gcHeap []*gcWindow

func (h gcHeap) Len() int           { return len(h) }
func (h gcHeap) Less(i, j int) bool { return h[i].expiry < h[j].expiry }
func (h gcHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *gcHeap) Push(x any)        { *h = append(*h, x.(*gcWindow)) }
func (h *gcHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
