package worker

import (
	"strconv"
	"sync"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"

	"github.com/sluice-runner/sluice/state"
)

// RunnerState serves the tails of large groups that stay in the store (Fn API
// StateKey.Runner): a group's element carries a token, and the SDK reads the values past
// the inline part with it. Tokens live until the bundle carrying them has finished.
//
// It is the one piece of a task shared with the state service goroutines, hence the lock.
type RunnerState struct {
	mu     sync.Mutex
	next   int
	parked map[string]parkedGroup
}

type parkedGroup struct {
	store state.Store
	keys  [][]byte
}

func (r *RunnerState) park(store state.Store, keys [][]byte) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.parked == nil {
		r.parked = map[string]parkedGroup{}
	}
	r.next++
	tok := "g" + strconv.Itoa(r.next)
	r.parked[tok] = parkedGroup{store: store, keys: keys}
	return []byte(tok)
}

// parkedTotal is how many groups have been parked so far.
func (r *RunnerState) parkedTotal() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}

func (r *RunnerState) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.parked)
}

// handle answers a Get on a StateKey.Runner.
func (r *RunnerState) handle(k *fnpb.StateKey_Runner, req *fnpb.StateRequest) *fnpb.StateResponse {
	get, ok := req.GetRequest().(*fnpb.StateRequest_Get)
	if !ok {
		return stateError("runner state is read-only: %T is not allowed", req.GetRequest())
	}
	r.mu.Lock()
	p, ok := r.parked[string(k.GetKey())]
	r.mu.Unlock()
	if !ok {
		return stateError("unknown or expired runner state token %q", k.GetKey())
	}
	return pagedGet(p.store, p.keys, get.Get)
}
