package worker

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"

	"github.com/sluice-runner/sluice/state"
)

// maxStatePage bounds one state response; the SDK asks for the rest with the continuation token.
const maxStatePage = 1 << 20

// pagePosition is where a page of the bags at keys starts: in bag keys[bag], after cursor.
// A continuation token carries it as "bag.cursor", so that each page resumes with one seek
// (reading a bag of many pages from its start for every page would be quadratic).
type pagePosition struct {
	bag    int
	cursor state.BagCursor
}

func (p pagePosition) token() []byte {
	return []byte(strconv.Itoa(p.bag) + "." + strconv.FormatUint(uint64(p.cursor), 10))
}

func parsePagePosition(tok []byte, bags int) (pagePosition, error) {
	if len(tok) == 0 {
		return pagePosition{}, nil
	}
	b, c, ok := strings.Cut(string(tok), ".")
	bag, err1 := strconv.Atoi(b)
	cursor, err2 := strconv.ParseUint(c, 10, 64)
	if !ok || err1 != nil || err2 != nil || bag < 0 || bag >= bags {
		return pagePosition{}, fmt.Errorf("bad continuation token %q", tok)
	}
	return pagePosition{bag: bag, cursor: state.BagCursor(cursor)}, nil
}

// readPage concatenates the values of the bags at keys, in order, from p, and stops after
// about maxStatePage bytes. It returns the data and where the next page starts, if any.
func readPage(store state.Store, keys [][]byte, p pagePosition) ([]byte, *pagePosition, error) {
	var data []byte
	for ; p.bag < len(keys); p.bag, p.cursor = p.bag+1, 0 {
		err := store.ReadBagFrom(keys[p.bag], p.cursor, func(v []byte, at state.BagCursor) error {
			if len(data) > 0 && len(data)+len(v) > maxStatePage {
				return errPageFull // stop reading: the rest is the next page's
			}
			data, p.cursor = append(data, v...), at
			return nil
		})
		if errors.Is(err, errPageFull) {
			return data, &p, nil
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return data, nil, nil
}

var errPageFull = errors.New("state page full")

// pagedGet answers a Get with one page of the bags at keys.
func pagedGet(store state.Store, keys [][]byte, get *fnpb.StateGetRequest) *fnpb.StateResponse {
	p, err := parsePagePosition(get.GetContinuationToken(), len(keys))
	if err != nil {
		return stateError("%v", err)
	}
	data, next, err := readPage(store, keys, p)
	if err != nil {
		return stateError("reading state: %v", err)
	}
	resp := &fnpb.StateGetResponse{Data: data}
	if next != nil {
		resp.ContinuationToken = next.token()
	}
	return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: resp}}
}

func stateError(format string, args ...any) *fnpb.StateResponse {
	return &fnpb.StateResponse{Error: fmt.Sprintf(format, args...)}
}
