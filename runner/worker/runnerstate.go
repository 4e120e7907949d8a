package worker

import (
	"fmt"
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
	store  state.Store
	keys   [][]byte
	inline int // values already sent inside the element
}

func (r *RunnerState) park(store state.Store, keys [][]byte, inline int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.parked == nil {
		r.parked = map[string]parkedGroup{}
	}
	r.next++
	tok := "g" + strconv.Itoa(r.next)
	r.parked[tok] = parkedGroup{store: store, keys: keys, inline: inline}
	return []byte(tok)
}

func (r *RunnerState) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.parked)
}

// get returns a page of the values of the group behind token, starting at value index
// start (after the inline part), and the index to continue from (0 when done).
func (r *RunnerState) get(token []byte, start int) ([]byte, int, error) {
	r.mu.Lock()
	p, ok := r.parked[string(token)]
	r.mu.Unlock()
	if !ok {
		return nil, 0, fmt.Errorf("unknown or expired runner state token %q", token)
	}
	var data []byte
	idx, next := 0, 0
	for _, k := range p.keys {
		err := p.store.ReadBag(k, func(v []byte) error {
			defer func() { idx++ }()
			if idx < p.inline+start || next > 0 {
				return nil
			}
			if len(data) > 0 && len(data)+len(v) > maxStatePage {
				next = idx - p.inline
				return nil
			}
			data = append(data, v...)
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
	}
	return data, next, nil
}

// handle answers a Get on a StateKey.Runner.
func (r *RunnerState) handle(k *fnpb.StateKey_Runner, req *fnpb.StateRequest) *fnpb.StateResponse {
	get, ok := req.GetRequest().(*fnpb.StateRequest_Get)
	if !ok {
		return &fnpb.StateResponse{Error: fmt.Sprintf("runner state is read-only: %T is not allowed", req.GetRequest())}
	}
	start := 0
	if tok := get.Get.GetContinuationToken(); len(tok) > 0 {
		n, err := strconv.Atoi(string(tok))
		if err != nil || n < 0 {
			return &fnpb.StateResponse{Error: fmt.Sprintf("bad continuation token %q", tok)}
		}
		start = n
	}
	data, next, err := r.get(k.GetKey(), start)
	if err != nil {
		return &fnpb.StateResponse{Error: err.Error()}
	}
	resp := &fnpb.StateGetResponse{Data: data}
	if next > 0 {
		resp.ContinuationToken = []byte(strconv.Itoa(next))
	}
	return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: resp}}
}
