package native

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"

	"github.com/sluice-runner/sluice/codegen/rt"
)

// stateClient is the harness's one State API stream to the runner: every bundle's
// requests go on it, each with its own id, and one receive loop hands each response to
// the request waiting for it. A page with a continuation token is followed by a request
// for the next one. When the stream ends, every waiting and later request fails.
type stateClient struct {
	send sendStream[*fnpb.StateRequest]

	mu      sync.Mutex
	next    uint64
	waiting map[string]chan *fnpb.StateResponse
	err     error // why the stream ended; set once
}

func newStateClient(send func(*fnpb.StateRequest) error) *stateClient {
	return &stateClient{send: sendStream[*fnpb.StateRequest]{send: send}, waiting: map[string]chan *fnpb.StateResponse{}}
}

// receive routes responses to their requests until recv fails, then fails them all.
func (c *stateClient) receive(recv func() (*fnpb.StateResponse, error)) {
	for {
		resp, err := recv()
		if err != nil {
			c.close(fmt.Errorf("the state stream ended: %w", err))
			return
		}
		c.mu.Lock()
		ch := c.waiting[resp.GetId()]
		delete(c.waiting, resp.GetId())
		c.mu.Unlock()
		if ch != nil {
			ch <- resp // buffered: the receive loop never blocks on a request gone away
		}
	}
}

// close fails every request in flight and every later one with err.
func (c *stateClient) close(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	for id, ch := range c.waiting {
		close(ch)
		delete(c.waiting, id)
	}
}

// call sends req (its id set here) and waits for its response.
func (c *stateClient) call(ctx context.Context, req *fnpb.StateRequest) (*fnpb.StateResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // the bundle was abandoned: ask nothing more
	}
	ch := make(chan *fnpb.StateResponse, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.next++
	id := strconv.FormatUint(c.next, 10)
	c.waiting[id] = ch
	c.mu.Unlock()
	req.Id = id
	if err := c.send.Send(req); err != nil {
		c.forget(id)
		return nil, fmt.Errorf("sending a state request: %w", err)
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			c.mu.Lock()
			err := c.err
			c.mu.Unlock()
			return nil, err
		}
		if resp.GetError() != "" {
			return nil, fmt.Errorf("the runner: %s", resp.GetError())
		}
		return resp, nil
	case <-ctx.Done():
		c.forget(id)
		return nil, ctx.Err()
	}
}

func (c *stateClient) forget(id string) {
	c.mu.Lock()
	delete(c.waiting, id)
	c.mu.Unlock()
}

// get reads every page of the state at key for bundle instruction, concatenated.
func (c *stateClient) get(ctx context.Context, instruction string, key *fnpb.StateKey) ([]byte, error) {
	var data, token []byte
	for {
		page, next, err := c.page(ctx, instruction, key, token)
		if err != nil {
			return nil, err
		}
		if data == nil {
			data = page // most side inputs are one page: no copy
		} else {
			data = append(data, page...)
		}
		if token = next; len(token) == 0 {
			return data, nil
		}
	}
}

// page reads the page of the state at key after continuation token (nil: the first
// one) and returns it with the token of the next page, nil after the last.
func (c *stateClient) page(ctx context.Context, instruction string, key *fnpb.StateKey, token []byte) (data, next []byte, err error) {
	resp, err := c.call(ctx, &fnpb.StateRequest{
		InstructionId: instruction,
		StateKey:      key,
		Request:       &fnpb.StateRequest_Get{Get: &fnpb.StateGetRequest{ContinuationToken: token}},
	})
	if err != nil {
		return nil, nil, err
	}
	get := resp.GetGet()
	if get == nil {
		return nil, nil, errors.New("the runner answered a state get with no get response")
	}
	if next = get.GetContinuationToken(); len(next) == 0 {
		next = nil
	}
	return get.GetData(), next, nil
}

// bundleGroupState is a bundle's rt.GroupStateReader: the rest of a large group, read
// under its instruction id with the token its element ends in.
type bundleGroupState struct {
	c           *stateClient
	instruction string
}

func (s bundleGroupState) GroupPage(ctx context.Context, token, continuation []byte) ([]byte, []byte, error) {
	return s.c.page(ctx, s.instruction, &fnpb.StateKey{Type: &fnpb.StateKey_Runner_{Runner: &fnpb.StateKey_Runner{Key: token}}}, continuation)
}

// bundleSideInputs is a bundle's rt.SideInputReader: state requests under its
// instruction id.
type bundleSideInputs struct {
	c           *stateClient
	instruction string
}

func (s bundleSideInputs) Iterable(ctx context.Context, transformID, sideInputID string, window []byte) ([]byte, error) {
	return s.c.get(ctx, s.instruction, &fnpb.StateKey{Type: &fnpb.StateKey_IterableSideInput_{IterableSideInput: &fnpb.StateKey_IterableSideInput{
		TransformId: transformID, SideInputId: sideInputID, Window: window,
	}}})
}

func (s bundleSideInputs) Multimap(ctx context.Context, transformID, sideInputID string, key, window []byte) ([]byte, error) {
	return s.c.get(ctx, s.instruction, &fnpb.StateKey{Type: &fnpb.StateKey_MultimapSideInput_{MultimapSideInput: &fnpb.StateKey_MultimapSideInput{
		TransformId: transformID, SideInputId: sideInputID, Window: window, Key: key,
	}}})
}

// bundleUserState is a bundle's rt.UserStateReader: user state requests under its
// instruction id, answered by the runner's task serving the stage's state.
type bundleUserState struct {
	c           *stateClient
	instruction string
}

func (s bundleUserState) Get(ctx context.Context, k rt.UserStateKey) ([]byte, error) {
	return s.c.get(ctx, s.instruction, userStateKey(k))
}

func (s bundleUserState) Append(ctx context.Context, k rt.UserStateKey, data []byte) error {
	key := userStateKey(k)
	if ol := key.GetOrderedListUserState(); ol != nil {
		ol.Range = nil // as the SDK's appender: an append has no range
	}
	_, err := s.c.call(ctx, &fnpb.StateRequest{
		InstructionId: s.instruction,
		StateKey:      key,
		Request:       &fnpb.StateRequest_Append{Append: &fnpb.StateAppendRequest{Data: data}},
	})
	return err
}

func (s bundleUserState) Clear(ctx context.Context, k rt.UserStateKey) error {
	_, err := s.c.call(ctx, &fnpb.StateRequest{
		InstructionId: s.instruction,
		StateKey:      userStateKey(k),
		Request:       &fnpb.StateRequest_Clear{Clear: &fnpb.StateClearRequest{}},
	})
	return err
}

// userStateKey is the Fn API state key of k.
func userStateKey(k rt.UserStateKey) *fnpb.StateKey {
	switch k.Kind {
	case rt.UserMultimap:
		return &fnpb.StateKey{Type: &fnpb.StateKey_MultimapUserState_{MultimapUserState: &fnpb.StateKey_MultimapUserState{
			TransformId: k.TransformID, UserStateId: k.StateID, Window: k.Window, Key: k.Key, MapKey: k.MapKey,
		}}}
	case rt.UserOrderedList:
		return &fnpb.StateKey{Type: &fnpb.StateKey_OrderedListUserState_{OrderedListUserState: &fnpb.StateKey_OrderedListUserState{
			TransformId: k.TransformID, UserStateId: k.StateID, Window: k.Window, Key: k.Key,
			Range: &fnpb.OrderedListRange{Start: k.Start, End: k.End},
		}}}
	case rt.UserMultimapKeys:
		return &fnpb.StateKey{Type: &fnpb.StateKey_MultimapKeysUserState_{MultimapKeysUserState: &fnpb.StateKey_MultimapKeysUserState{
			TransformId: k.TransformID, UserStateId: k.StateID, Window: k.Window, Key: k.Key,
		}}}
	}
	return &fnpb.StateKey{Type: &fnpb.StateKey_BagUserState_{BagUserState: &fnpb.StateKey_BagUserState{
		TransformId: k.TransformID, UserStateId: k.StateID, Window: k.Window, Key: k.Key,
	}}}
}
