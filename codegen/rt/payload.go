package rt

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	v1pb "github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx/v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/util/protox"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"
)

// userFn decodes the Go function or struct a Go SDK function spec's payload carries (a
// base64 TransformPayload, as the SDK writes a DoFn's or CombineFn's), configuration
// restored as the SDK harness restores it. Chains decode theirs once per stage instance.
func userFn(payload []byte) (*graph.Fn, error) {
	var tp v1pb.TransformPayload
	if err := protox.DecodeBase64(string(payload), &tp); err != nil {
		return nil, fmt.Errorf("decoding its transform payload: %w", err)
	}
	_, fn, _, _, _, err := graphx.DecodeMultiEdge(tp.GetEdge())
	if err != nil {
		return nil, fmt.Errorf("decoding its function: %w", err)
	}
	return fn, nil
}

// parDoFn decodes the function or struct of a ParDo whose payload is a ParDoPayload.
func parDoFn(payload []byte) (*graph.Fn, error) {
	var pd pipepb.ParDoPayload
	if err := proto.Unmarshal(payload, &pd); err != nil {
		return nil, fmt.Errorf("decoding a ParDoPayload: %w", err)
	}
	return userFn(pd.GetDoFn().GetPayload())
}
