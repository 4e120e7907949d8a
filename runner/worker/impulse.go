package worker

import (
	"context"

	"github.com/sluice-runner/sluice/runner/wire"
)

// ImpulseTask emits the single element of beam:transform:impulse:v1 (an empty byte array in
// the global window at the minimum timestamp) from subtask 0, then ends its outputs.
type ImpulseTask struct {
	Subtask int
	Out     Outputs
}

// Run implements Task.
func (t *ImpulseTask) Run(ctx context.Context) error {
	if t.Subtask == 0 {
		for _, o := range t.Out {
			rec := o.Codec.Append(nil, wire.WindowedValue{
				Timestamp: wire.MinTimestamp,
				Windows:   []wire.Window{wire.GlobalWindow{}},
				Pane:      wire.PaneNoFiring,
				Element:   []byte{0}, // bytes coder: varint length 0
			})
			if err := o.Emit(ctx, rec); err != nil {
				return err
			}
		}
	}
	return t.Out.Close(ctx)
}
