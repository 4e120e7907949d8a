package worker

import (
	"errors"
	"fmt"
	"strconv"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"

	"github.com/sluice-runner/sluice/state"
)

// maxStatePage bounds one state response; the SDK asks for the rest with the continuation token.
const maxStatePage = 1 << 20

// readPage concatenates the values of the bags at keys, in order, skipping the first skip
// values and then start more (start comes from a continuation token), and stops after
// about maxStatePage bytes. It returns the data and the start of the next page (0 when
// there is none).
func readPage(store state.Store, keys [][]byte, skip, start int) ([]byte, int, error) {
	var data []byte
	idx, next := 0, 0
	for _, k := range keys {
		err := store.ReadBag(k, func(v []byte) error {
			defer func() { idx++ }()
			if idx < skip+start {
				return nil
			}
			if len(data) > 0 && len(data)+len(v) > maxStatePage {
				next = idx - skip
				return errPageFull // stop reading: the rest is the next page's
			}
			data = append(data, v...)
			return nil
		})
		if errors.Is(err, errPageFull) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
	}
	return data, next, nil
}

var errPageFull = errors.New("state page full")

// pagedGet answers a Get with one page of the bags at keys.
func pagedGet(store state.Store, keys [][]byte, skip int, get *fnpb.StateGetRequest) *fnpb.StateResponse {
	start := 0
	if tok := get.GetContinuationToken(); len(tok) > 0 {
		n, err := strconv.Atoi(string(tok))
		if err != nil || n < 0 {
			return stateError("bad continuation token %q", tok)
		}
		start = n
	}
	data, next, err := readPage(store, keys, skip, start)
	if err != nil {
		return stateError("reading state: %v", err)
	}
	resp := &fnpb.StateGetResponse{Data: data}
	if next > 0 {
		resp.ContinuationToken = []byte(strconv.Itoa(next))
	}
	return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: resp}}
}

func stateError(format string, args ...any) *fnpb.StateResponse {
	return &fnpb.StateResponse{Error: fmt.Sprintf(format, args...)}
}
