package rt

import (
	"bytes"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
)

// SDKCodec codes a native stage's input or output values with the Go SDK's own element
// coders, for values rt has no typed coder for (schema rows, registered custom types).
// It is what the SDK harness does for the same port, so the bytes are the same; it costs
// what it costs there (reflection, boxing), which is why generated code uses it only
// where the typed coders cannot go. Not safe for concurrent use: one per bundle.
type SDKCodec struct {
	enc exec.ElementEncoder
	dec exec.ElementDecoder
	r   bytes.Reader
	w   bytes.Buffer
	fv  exec.FullValue
}

// NewSDKCodec returns the codec of the elements of c, a port's coder as StageEnv gives it
// (a windowed value coder: its window part is the header, which the harness codes).
func NewSDKCodec(c *coder.Coder) *SDKCodec {
	elem := coder.SkipW(c)
	return &SDKCodec{enc: exec.MakeElementEncoder(elem), dec: exec.MakeElementDecoder(elem)}
}

// Decode decodes the value at the start of b and says how many bytes it took. The
// result is valid until the next Decode.
func (c *SDKCodec) Decode(b []byte) (*exec.FullValue, int, error) {
	c.r.Reset(b)
	c.fv = exec.FullValue{}
	if err := c.dec.DecodeTo(&c.r, &c.fv); err != nil {
		return nil, 0, fmt.Errorf("sluice native: decoding with the SDK's coder: %w", err)
	}
	return &c.fv, len(b) - c.r.Len(), nil
}

// Append appends the encoding of fv (Elm, and Elm2 for a KV) to dst.
func (c *SDKCodec) Append(dst []byte, fv *exec.FullValue) ([]byte, error) {
	c.w.Reset()
	if err := c.enc.Encode(fv, &c.w); err != nil {
		return dst, fmt.Errorf("sluice native: encoding with the SDK's coder: %w", err)
	}
	return append(dst, c.w.Bytes()...), nil
}

// NewSDKCodecs returns a codec of each coder's values (windows aside, as NewSDKCodec).
func NewSDKCodecs(cs []*coder.Coder) []*SDKCodec {
	out := make([]*SDKCodec, len(cs))
	for i, c := range cs {
		out[i] = NewSDKCodec(c)
	}
	return out
}
