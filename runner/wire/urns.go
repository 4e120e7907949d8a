package wire

import (
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// coderURN reads the beam_urn option attached to a StandardCoders value, so
// the URN strings come from the model protos rather than from our typing.
func coderURN(v pipepb.StandardCoders_Enum) string {
	ev := v.Descriptor().Values().ByNumber(protoreflect.EnumNumber(v))
	return proto.GetExtension(ev.Options(), pipepb.E_BeamUrn).(string)
}

// Standard coder URNs, derived from pipepb.StandardCoders.
var (
	URNBytes               = coderURN(pipepb.StandardCoders_BYTES)
	URNStringUTF8          = coderURN(pipepb.StandardCoders_STRING_UTF8)
	URNKV                  = coderURN(pipepb.StandardCoders_KV)
	URNBool                = coderURN(pipepb.StandardCoders_BOOL)
	URNVarInt              = coderURN(pipepb.StandardCoders_VARINT)
	URNDouble              = coderURN(pipepb.StandardCoders_DOUBLE)
	URNIterable            = coderURN(pipepb.StandardCoders_ITERABLE)
	URNTimer               = coderURN(pipepb.StandardCoders_TIMER)
	URNIntervalWindow      = coderURN(pipepb.StandardCoders_INTERVAL_WINDOW)
	URNLengthPrefix        = coderURN(pipepb.StandardCoders_LENGTH_PREFIX)
	URNGlobalWindow        = coderURN(pipepb.StandardCoders_GLOBAL_WINDOW)
	URNWindowedValue       = coderURN(pipepb.StandardCoders_WINDOWED_VALUE)
	URNParamWindowedValue  = coderURN(pipepb.StandardCoders_PARAM_WINDOWED_VALUE)
	URNStateBackedIterable = coderURN(pipepb.StandardCoders_STATE_BACKED_ITERABLE)
	URNCustomWindow        = coderURN(pipepb.StandardCoders_CUSTOM_WINDOW)
	URNRow                 = coderURN(pipepb.StandardCoders_ROW)
	URNShardedKey          = coderURN(pipepb.StandardCoders_SHARDED_KEY)
	URNNullable            = coderURN(pipepb.StandardCoders_NULLABLE)
)

// leafURNs are coders the runner parses without looking at components.
// length_prefix is a leaf on purpose: its payload is opaque to us.
var leafURNs = map[string]bool{
	URNBytes:          true,
	URNStringUTF8:     true,
	URNLengthPrefix:   true,
	URNVarInt:         true,
	URNDouble:         true,
	URNBool:           true,
	URNGlobalWindow:   true,
	URNIntervalWindow: true,
}

// compositeArity lists the known composite coders and how many components
// each must have; the runner parses them by recursing into the components.
var compositeArity = map[string]int{
	URNKV:                  2,
	URNIterable:            1,
	URNTimer:               2,
	URNWindowedValue:       2,
	URNParamWindowedValue:  2,
	URNStateBackedIterable: 1,
	URNCustomWindow:        1,
	URNShardedKey:          1,
	URNNullable:            1,
}

// IsKnownCoderURN reports whether the runner can parse coders with this URN
// (given parseable components).
func IsKnownCoderURN(urn string) bool {
	_, composite := compositeArity[urn]
	return leafURNs[urn] || composite
}
