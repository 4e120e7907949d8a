package rt

import (
	"bytes"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
)

// The Go SDK's lifted combine tells its keys apart by their encoding with the key coder
// of its input (exec.liftingCache.lookup: a hash to find a bucket, then the encodings
// compared byte for byte), not by Go equality. A chain keys its cache by Go equality where
// the two agree (string and integer keys, bytes as a string) and by the encoding where
// they may not (row and custom coders: a custom coder may code unequal values alike).

// PrecombineKeyCoder is the coder the SDK's precombine of the named transform encodes its
// keys with: the key coder of the KV it reads, as the runner's descriptor has it
// (exec's LiftedCombine.KeyCoder).
func PrecombineKeyCoder(env StageEnv, transform string) (*coder.Coder, error) {
	c, err := env.TransformCoder(transform, false)
	if err != nil {
		return nil, fmt.Errorf("sluice native: %s: %w", transform, err)
	}
	c = coder.SkipW(c)
	if !coder.IsKV(c) {
		return nil, fmt.Errorf("sluice native: %s reads %v, want a KV", transform, c)
	}
	return c.Components[0], nil
}

// KeyEncoder encodes keys with the SDK's encoder of their coder, as its lifted combine
// does. Not safe for concurrent use: one per bundle.
type KeyEncoder struct {
	enc exec.ElementEncoder
	fv  exec.FullValue
	buf bytes.Buffer
}

// NewKeyEncoder returns the encoder of keys of c (PrecombineKeyCoder's).
func NewKeyEncoder(c *coder.Coder) *KeyEncoder {
	return &KeyEncoder{enc: exec.MakeElementEncoder(c)}
}

// Encode returns key's encoding, valid until the next Encode.
func (e *KeyEncoder) Encode(key any) ([]byte, error) {
	e.buf.Reset()
	e.fv.Elm = key
	err := e.enc.Encode(&e.fv, &e.buf)
	e.fv.Elm = nil
	if err != nil {
		return nil, fmt.Errorf("sluice native: encoding a key with the SDK's coder: %w", err)
	}
	return e.buf.Bytes(), nil
}
