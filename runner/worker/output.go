package worker

import (
	"context"
	"fmt"

	"github.com/sluice-runner/sluice/runner/wire"
	"github.com/sluice-runner/sluice/shuffle"
)

// Output is one PCollection a task produces, with the writers of every edge reading it.
type Output struct {
	PCollection string
	Codec       *wire.WindowedValueCodec
	Writers     []*shuffle.Writer
	// Keyed is set when some edge partitions by key: Emit then extracts the key.
	Keyed bool

	kv *wire.KVCodec
}

// NewOutput returns an output of pcoll written to writers; keyed says whether any of them
// hash-partitions (which needs a KV element coder).
func NewOutput(pcoll string, codec *wire.WindowedValueCodec, writers []*shuffle.Writer, keyed bool) (*Output, error) {
	o := &Output{PCollection: pcoll, Codec: codec, Writers: writers, Keyed: keyed}
	if keyed {
		kv, ok := codec.KV()
		if !ok {
			return nil, fmt.Errorf("PCollection %q is partitioned by key but its elements are not KVs", pcoll)
		}
		o.kv = kv
	}
	return o, nil
}

// Emit writes one encoded windowed value to every edge.
func (o *Output) Emit(ctx context.Context, record []byte) error {
	var key []byte
	if o.Keyed {
		n, err := o.Codec.SkipHeader(record)
		if err != nil {
			return fmt.Errorf("PCollection %q: %w", o.PCollection, err)
		}
		k, _, err := o.kv.Split(record[n:])
		if err != nil {
			return fmt.Errorf("PCollection %q: %w", o.PCollection, err)
		}
		key = k
	}
	for _, w := range o.Writers {
		if err := w.Write(ctx, key, record); err != nil {
			return err
		}
	}
	return nil
}

// Outputs are all outputs of a task.
type Outputs []*Output

// EmitWatermark sends wm downstream on every edge.
func (os Outputs) EmitWatermark(ctx context.Context, wm int64) error {
	for _, o := range os {
		for _, w := range o.Writers {
			if err := w.EmitWatermark(ctx, wm); err != nil {
				return err
			}
		}
	}
	return nil
}

// EmitProcessingTime sends the virtual clock's processing time pt downstream on every edge.
func (os Outputs) EmitProcessingTime(ctx context.Context, pt int64) error {
	for _, o := range os {
		for _, w := range o.Writers {
			if err := w.EmitProcessingTime(ctx, pt); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close ends every edge: watermark +inf, then end of data.
func (os Outputs) Close(ctx context.Context) error {
	for _, o := range os {
		for _, w := range o.Writers {
			if err := w.Close(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}
