package window

import (
	"errors"
	"fmt"
	"time"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/sluice-runner/sluice/runner/wire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Time bounds, in milliseconds; equal to mtime.MinTimestamp,
// mtime.MaxTimestamp and mtime.EndOfGlobalWindowTime of the Go SDK.
const (
	MinTimestamp          = wire.MinTimestamp
	MaxTimestamp          = wire.MaxTimestamp
	EndOfGlobalWindowTime = wire.EndOfGlobalWindowTime
	// GlobalWindowMaxTimestamp is the max timestamp of the global window.
	GlobalWindowMaxTimestamp = EndOfGlobalWindowTime
)

// ErrCustomMerging is returned for a merging window fn the runner does not
// know: merging such windows would need the SDK's own merge logic.
var ErrCustomMerging = errors.New("merging of custom windows is not supported by the runner")

func windowFnURN(v protoreflect.Enum) string {
	ev := v.Descriptor().Values().ByNumber(v.Number())
	return proto.GetExtension(ev.Options(), pipepb.E_BeamUrn).(string)
}

// Window fn URNs, from the standard_window_fns protos.
var (
	URNGlobalWindows  = windowFnURN(pipepb.GlobalWindowsPayload_PROPERTIES)
	URNFixedWindows   = windowFnURN(pipepb.FixedWindowsPayload_PROPERTIES)
	URNSlidingWindows = windowFnURN(pipepb.SlidingWindowsPayload_PROPERTIES)
	URNSessionWindows = windowFnURN(pipepb.SessionWindowsPayload_PROPERTIES)
)

// Kind is the window fn family.
type Kind int

const (
	KindGlobal Kind = iota
	KindFixed
	KindSliding
	KindSessions
	// KindCustom is any other window fn: the SDK assigns its windows and the
	// runner treats them as opaque (non-merging only).
	KindCustom
)

func (k Kind) String() string {
	names := [...]string{"global", "fixed", "sliding", "sessions", "custom"}
	if k < 0 || int(k) >= len(names) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return names[k]
}

// Strategy is a WindowingStrategy as the runner uses it. Durations are in
// milliseconds.
type Strategy struct {
	Kind        Kind
	WindowFnURN string
	// Size and Offset of fixed and sliding windows; Period of sliding ones.
	Size, Period, Offset int64
	// SessionGap of session windows.
	SessionGap int64
	// Merging is true when GroupByKey must merge windows (sessions).
	Merging bool

	OutputTime       pipepb.OutputTime_Enum
	AllowedLateness  int64
	AccumulationMode pipepb.AccumulationMode_Enum
	Trigger          *pipepb.Trigger
	ClosingBehavior  pipepb.ClosingBehavior_Enum
	OnTimeBehavior   pipepb.OnTimeBehavior_Enum
	WindowCoderID    string
	EnvironmentID    string
}

// StrategyFromProto reads a WindowingStrategy. Unknown window fns become
// KindCustom; that is an error only if they need merging, which the runner
// cannot do for windows it does not understand.
func StrategyFromProto(ws *pipepb.WindowingStrategy) (Strategy, error) {
	if ws == nil {
		return Strategy{}, errors.New("windowing strategy is nil")
	}
	urn := ws.GetWindowFn().GetUrn()
	s := Strategy{
		WindowFnURN:      urn,
		OutputTime:       ws.GetOutputTime(),
		AllowedLateness:  ws.GetAllowedLateness(),
		AccumulationMode: ws.GetAccumulationMode(),
		Trigger:          ws.GetTrigger(),
		ClosingBehavior:  ws.GetClosingBehavior(),
		OnTimeBehavior:   ws.GetOnTimeBehavior(),
		WindowCoderID:    ws.GetWindowCoderId(),
		EnvironmentID:    ws.GetEnvironmentId(),
	}
	if s.AllowedLateness < 0 {
		return Strategy{}, fmt.Errorf("window fn %s: negative allowed lateness %d ms", urn, s.AllowedLateness)
	}
	payload := ws.GetWindowFn().GetPayload()
	switch urn {
	case URNGlobalWindows:
		s.Kind = KindGlobal
	case URNFixedWindows:
		var p pipepb.FixedWindowsPayload
		if err := proto.Unmarshal(payload, &p); err != nil {
			return Strategy{}, fmt.Errorf("window fn %s: payload: %w", urn, err)
		}
		s.Kind, s.Size, s.Offset = KindFixed, millis(p.GetSize()), offsetMillis(p.GetOffset())
		if s.Size <= 0 {
			return Strategy{}, fmt.Errorf("window fn %s: size %d ms must be positive", urn, s.Size)
		}
	case URNSlidingWindows:
		var p pipepb.SlidingWindowsPayload
		if err := proto.Unmarshal(payload, &p); err != nil {
			return Strategy{}, fmt.Errorf("window fn %s: payload: %w", urn, err)
		}
		s.Kind, s.Size, s.Period, s.Offset = KindSliding, millis(p.GetSize()), millis(p.GetPeriod()), offsetMillis(p.GetOffset())
		if s.Size <= 0 || s.Period <= 0 {
			return Strategy{}, fmt.Errorf("window fn %s: size %d ms and period %d ms must be positive", urn, s.Size, s.Period)
		}
	case URNSessionWindows:
		var p pipepb.SessionWindowsPayload
		if err := proto.Unmarshal(payload, &p); err != nil {
			return Strategy{}, fmt.Errorf("window fn %s: payload: %w", urn, err)
		}
		s.Kind, s.SessionGap, s.Merging = KindSessions, millis(p.GetGapSize()), true
		if s.SessionGap <= 0 {
			return Strategy{}, fmt.Errorf("window fn %s: gap %d ms must be positive", urn, s.SessionGap)
		}
	default:
		s.Kind = KindCustom
		if ws.GetMergeStatus() == pipepb.MergeStatus_NEEDS_MERGE {
			return Strategy{}, fmt.Errorf("window fn %s: %w", urn, ErrCustomMerging)
		}
	}
	return s, nil
}

func millis(d *durationpb.Duration) int64 {
	return d.AsDuration().Milliseconds()
}

// offsetMillis reads a window offset, which the protos carry as a Timestamp
// relative to the epoch.
func offsetMillis(t *timestamppb.Timestamp) int64 {
	if t == nil {
		return 0
	}
	return t.GetSeconds()*int64(time.Second/time.Millisecond) + int64(t.GetNanos())/int64(time.Millisecond)
}
