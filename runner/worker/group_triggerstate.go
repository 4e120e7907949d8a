package worker

import (
	"encoding/binary"
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

// A group's trigger state lives in the group store (Pebble by default), written through
// whenever it changes; the group keeps the decoded copy it works with. Under the Default
// trigger there is nothing worth keeping (the window fires when the watermark passes it)
// and nothing is written, so batch grouping pays nothing for it.
//
// The group store holds two kinds of keys: a group's bags of values past InlineBytes and
// its trigger state, kept apart by their first byte.
const (
	bagKeyPrefix     = 0x00
	triggerKeyPrefix = 0x01
)

// bagKey is the store key of the group's current bag: the bag prefix, uvarint(gen), then
// storeKey.
func (gr *group) bagKey() []byte {
	return append(binary.AppendUvarint([]byte{bagKeyPrefix}, gr.gen), gr.storeKey...)
}

// triggerKey is the store key of the group's trigger state.
func (gr *group) triggerKey() []byte {
	return append([]byte{triggerKeyPrefix}, gr.storeKey...)
}

// keepsTriggerState says whether trigger states are written to the store: for any trigger
// but the default.
func (g *GroupBuffer) keepsTriggerState() bool { return !g.defaultTrigger }

func isDefaultTrigger(t *pipepb.Trigger) bool {
	switch t.GetTrigger().(type) {
	case nil, *pipepb.Trigger_Default_:
		return true
	default:
		return false
	}
}

// saveTrigger writes gr's trigger state to the store.
func (g *GroupBuffer) saveTrigger(gr *group) error {
	if gr.trig == nil || !g.keepsTriggerState() {
		return nil
	}
	b, err := gr.trig.AppendBinary(g.trigBuf[:0])
	if err != nil {
		return fmt.Errorf("encoding trigger state: %w", err)
	}
	g.trigBuf = b
	key := gr.triggerKey()
	if gr.trigSaved {
		if err := g.Store.ClearBag(key); err != nil {
			return err
		}
	}
	gr.trigSaved = true
	return g.Store.AppendBag(key, b)
}

// dropTrigger deletes gr's trigger state from the store, when its window expires or it
// merges into another.
func (g *GroupBuffer) dropTrigger(gr *group) error {
	if !gr.trigSaved {
		return nil
	}
	gr.trigSaved = false
	return g.Store.ClearBag(gr.triggerKey())
}
