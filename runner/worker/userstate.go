package worker

import (
	"encoding/binary"
	"sync"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"

	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/shuffle"
	"github.com/sluice-runner/sluice/state"
)

// userState serves the Beam user state of one stateful stage subtask over the Fn API:
// bag state (which the SDKs also use for value and combining state) and multimap state
// (map and set state), each scoped by transform, state id, window and user key. The
// subtask owns the keys its input is hash-partitioned to.
//
// Only the state service goroutines touch it, while a bundle runs; the lock orders their
// requests (the SDK sends a bundle's requests one at a time, but from several goroutines
// of ours).
type userState struct {
	mu    sync.Mutex
	store state.Store
	// orderedLists holds the element codec of each ordered-list state, by
	// transform id + "/" + state id: entries are cut out of appended data with it.
	orderedLists map[string]wire.Codec
	// gc, if set, drops the state of expired windows.
	gc *StateGC
	// keyGroups is the job's max parallelism: the number of key groups keys hash to;
	// owned are the key groups the subtask's input is partitioned to. misplaced counts
	// requests for keys outside them, which would mean the SDK's state keys and the
	// partitioning disagree (and state would move to the wrong subtask on rescaling).
	keyGroups int
	owned     shuffle.KeyGroupRange
	misplaced int
	// keyPrefixed says partitioning hashes the key length-prefixed (see
	// plan.JobGraph.KeyLengthPrefixed): so must the key group of state.
	keyPrefixed bool
}

// keyGroup is the key group of a user key as the SDK encodes it in state keys: the one
// partitioning sends the key to.
func (u *userState) keyGroup(key []byte) int {
	if u.keyPrefixed {
		key = wire.AppendLengthPrefixed(nil, key)
	}
	return shuffle.KeyGroup(key, u.keyGroups)
}

// Key kinds, the first byte of every user-state key.
const (
	kindBag         = 'b'
	kindMultimap    = 'm'
	kindOrderedList = 'o'
)

// userStateKey lays out a user-state key as the design says: key group (uint16 big endian,
// of the user key, so that a key group's state is one key range to snapshot or move when
// rescaling), kind, then transform, state id, window and user key, each length-prefixed.
// Sub-keys (map keys, sort keys) follow.
func userStateKey(keyGroup int, kind byte, transform, stateID string, window, key []byte) []byte {
	k := make([]byte, 0, 3+4*binary.MaxVarintLen32+len(transform)+len(stateID)+len(window)+len(key))
	k = binary.BigEndian.AppendUint16(k, uint16(keyGroup))
	k = append(k, kind)
	for _, part := range [][]byte{[]byte(transform), []byte(stateID), window, key} {
		k = binary.AppendUvarint(k, uint64(len(part)))
		k = append(k, part...)
	}
	return k
}

// handle answers a user-state request; ok is false for state keys that are not user state.
func (u *userState) handle(req *fnpb.StateRequest) (resp *fnpb.StateResponse, ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if w, key, user := userStateWindowAndKey(req.GetStateKey()); user {
		if u.owned.Len() > 0 && !u.owned.Contains(u.keyGroup(key)) {
			u.misplaced++
		}
		if _, appends := req.GetRequest().(*fnpb.StateRequest_Append); appends && u.gc != nil {
			if err := u.gc.note(w, key); err != nil {
				return stateError("%v", err), true
			}
		}
	}
	switch k := req.GetStateKey().GetType().(type) {
	case *fnpb.StateKey_BagUserState_:
		b := k.BagUserState
		return u.bag(userStateKey(u.keyGroup(b.GetKey()), kindBag, b.GetTransformId(), b.GetUserStateId(), b.GetWindow(), b.GetKey()), req), true
	case *fnpb.StateKey_MultimapUserState_:
		m := k.MultimapUserState
		prefix := userStateKey(u.keyGroup(m.GetKey()), kindMultimap, m.GetTransformId(), m.GetUserStateId(), m.GetWindow(), m.GetKey())
		return u.bag(append(prefix, m.GetMapKey()...), req), true
	case *fnpb.StateKey_MultimapKeysUserState_:
		m := k.MultimapKeysUserState
		return u.mapKeys(userStateKey(u.keyGroup(m.GetKey()), kindMultimap, m.GetTransformId(), m.GetUserStateId(), m.GetWindow(), m.GetKey()), req), true
	case *fnpb.StateKey_OrderedListUserState_:
		return u.orderedList(k.OrderedListUserState, req), true
	}
	return nil, false
}

// userStateWindowAndKey returns the window and user key of a user-state key.
func userStateWindowAndKey(k *fnpb.StateKey) (w, key []byte, ok bool) {
	switch k := k.GetType().(type) {
	case *fnpb.StateKey_BagUserState_:
		return k.BagUserState.GetWindow(), k.BagUserState.GetKey(), true
	case *fnpb.StateKey_MultimapUserState_:
		return k.MultimapUserState.GetWindow(), k.MultimapUserState.GetKey(), true
	case *fnpb.StateKey_OrderedListUserState_:
		return k.OrderedListUserState.GetWindow(), k.OrderedListUserState.GetKey(), true
	}
	return nil, nil, false
}

// expire drops the state of the windows expired at watermark wm (see StateGC).
func (u *userState) expire(wm int64) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.gc.expire(u.store, wm, u.keyGroup)
}

// bag serves Get, Append and Clear on one bag; appended data is kept as sent (it may hold
// several encoded values) and Get returns the concatenation.
func (u *userState) bag(key []byte, req *fnpb.StateRequest) *fnpb.StateResponse {
	switch r := req.GetRequest().(type) {
	case *fnpb.StateRequest_Get:
		return pagedGet(u.store, [][]byte{key}, r.Get)
	case *fnpb.StateRequest_Append:
		if err := u.store.AppendBag(key, r.Append.GetData()); err != nil {
			return stateError("appending to user state: %v", err)
		}
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Append{Append: &fnpb.StateAppendResponse{}}}
	case *fnpb.StateRequest_Clear:
		if err := u.store.ClearBag(key); err != nil {
			return stateError("clearing user state: %v", err)
		}
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Clear{Clear: &fnpb.StateClearResponse{}}}
	}
	return stateError("user state does not support %T", req.GetRequest())
}

// mapKeys lists (Get) or clears (Clear) every map key of one multimap state.
func (u *userState) mapKeys(prefix []byte, req *fnpb.StateRequest) *fnpb.StateResponse {
	var keys [][]byte
	if err := u.store.ScanKeys(prefix, func(k []byte) error {
		keys = append(keys, k)
		return nil
	}); err != nil {
		return stateError("listing map keys: %v", err)
	}
	switch req.GetRequest().(type) {
	case *fnpb.StateRequest_Get:
		var data []byte
		for _, k := range keys {
			data = append(data, k[len(prefix):]...)
		}
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: &fnpb.StateGetResponse{Data: data}}}
	case *fnpb.StateRequest_Clear:
		for _, k := range keys {
			if err := u.store.ClearBag(k); err != nil {
				return stateError("clearing user state: %v", err)
			}
		}
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Clear{Clear: &fnpb.StateClearResponse{}}}
	}
	return stateError("map keys state does not support %T", req.GetRequest())
}

// orderedList serves ordered-list state. The entries (varint sort key, encoded value) of
// one sort key are a bag under prefix | sort key (order-preserving), so that range reads
// and range clears are key-range scans and entries of equal sort keys keep their append
// order (also across a reopen of a persistent store).
func (u *userState) orderedList(k *fnpb.StateKey_OrderedListUserState, req *fnpb.StateRequest) *fnpb.StateResponse {
	prefix := userStateKey(u.keyGroup(k.GetKey()), kindOrderedList, k.GetTransformId(), k.GetUserStateId(), k.GetWindow(), k.GetKey())
	inRange := func(key []byte) bool {
		ts := int64(binary.BigEndian.Uint64(key[len(prefix):]) ^ (1 << 63))
		return ts >= k.GetRange().GetStart() && ts < k.GetRange().GetEnd()
	}
	switch r := req.GetRequest().(type) {
	case *fnpb.StateRequest_Append:
		codec := u.orderedLists[k.GetTransformId()+"/"+k.GetUserStateId()]
		if codec == nil {
			return stateError("ordered list state %q of transform %q is not declared", k.GetUserStateId(), k.GetTransformId())
		}
		for data := r.Append.GetData(); len(data) > 0; {
			// The sort key is a protobuf varint of the int64's bits.
			uts, m := binary.Uvarint(data)
			if m <= 0 {
				return stateError("ordered list append: bad sort key")
			}
			ts := int64(uts)
			v, err := codec.Skip(data[m:])
			if err != nil {
				return stateError("ordered list append: %v", err)
			}
			n := m + v
			key := binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), uint64(ts)^(1<<63))
			if err := u.store.AppendBag(key, data[:n]); err != nil {
				return stateError("appending to ordered list state: %v", err)
			}
			data = data[n:]
		}
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Append{Append: &fnpb.StateAppendResponse{}}}
	case *fnpb.StateRequest_Get, *fnpb.StateRequest_Clear:
		var data []byte
		err := u.store.ScanKeys(prefix, func(key []byte) error {
			if !inRange(key) {
				return nil
			}
			if _, clear := r.(*fnpb.StateRequest_Clear); clear {
				return u.store.ClearBag(key)
			}
			return u.store.ReadBag(key, func(v []byte) error { data = append(data, v...); return nil })
		})
		if err != nil {
			return stateError("ordered list state: %v", err)
		}
		if _, clear := r.(*fnpb.StateRequest_Clear); clear {
			return &fnpb.StateResponse{Response: &fnpb.StateResponse_Clear{Clear: &fnpb.StateClearResponse{}}}
		}
		return &fnpb.StateResponse{Response: &fnpb.StateResponse_Get{Get: &fnpb.StateGetResponse{Data: data}}}
	}
	return stateError("ordered list state does not support %T", req.GetRequest())
}
