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

// parkedGroup is where a parked group's values are: blocks in memory (each a page), then
// the bags at keys in store.
type parkedGroup struct {
	blocks [][]byte
	store  state.Store
	keys   [][]byte
}

func (r *RunnerState) park(store state.Store, keys [][]byte) []byte {
	return r.parkGroup(parkedGroup{store: store, keys: keys})
}

func (r *RunnerState) parkGroup(p parkedGroup) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.parked == nil {
		r.parked = map[string]parkedGroup{}
	}
	r.next++
	tok := "g" + strconv.Itoa(r.next)
	r.parked[tok] = p
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
	if len(p.blocks) > 0 {
		return p.blockPage(get.Get)
	}
	return pagedGet(p.store, p.keys, get.Get)
}

// blockPage answers a Get on a group parked with blocks in memory: a block per page, as it
// is, then the bags in the store. A continuation token "b<i>" starts at block i; any other
// is pagedGet's.
func (p parkedGroup) blockPage(get *fnpb.StateGetRequest) *fnpb.StateResponse {
	tok := string(get.GetContinuationToken())
	i := 0
	switch {
	case tok == "":
	case tok[0] == 'b':
		n, err := strconv.Atoi(tok[1:])
		if err != nil || n <= 0 || n >= len(p.blocks) {
			return stateError("bad continuation token %q", tok)
		}
		i = n
	default:
		return pagedGet(p.store, p.keys, get)
	}
	resp := &fnpb.StateGetResponse{Data: p.blocks[i]}
	switch {
	case i+1 < len(p.blocks):
		resp.ContinuationToken = []byte("b" + strconv.Itoa(i+1))
	case len(p.keys) > 0:
		resp.ContinuationToken = pagePosition{}.token()
	}
	return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: resp}}
}
