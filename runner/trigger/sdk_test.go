package trigger

import (
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window/trigger"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
)

// TestSDKTriggers parses the protos the Beam Go SDK makes for the triggers of its
// integration tests, so that the scripts in testdata/integration.txt, which write
// triggers by name, are known to test what those pipelines send.
func TestSDKTriggers(t *testing.T) {
	for _, tc := range []struct {
		sdk  trigger.Trigger
		want string
	}{
		{trigger.Default(), "Default"},
		{trigger.Always(), "Always"},
		{trigger.Never(), "Never"},
		{trigger.AfterCount(2), "AfterCount(2)"},
		{trigger.AfterProcessingTime().PlusDelay(5 * time.Second), "AfterProcessingTime(delay=5s)"},
		{trigger.AfterProcessingTime().PlusDelay(time.Millisecond).AlignedTo(time.Minute, time.UnixMilli(250)),
			"AfterProcessingTime(delay=1ms, alignTo=1m0s@250ms)"},
		{trigger.Repeat(trigger.AfterCount(2)), "Repeat(AfterCount(2))"},
		// The SDK's AfterEndOfWindow() starts with early firings Default.
		{trigger.AfterEndOfWindow(), "AfterEndOfWindow(early=Default)"},
		{trigger.AfterEndOfWindow().EarlyFiring(trigger.AfterCount(2)).LateFiring(trigger.AfterCount(1)),
			"AfterEndOfWindow(early=AfterCount(2), late=AfterCount(1))"},
		{trigger.Repeat(trigger.AfterAll([]trigger.Trigger{trigger.Always(), trigger.AfterCount(5)})),
			"Repeat(AfterAll(Always, AfterCount(5)))"},
		{trigger.Repeat(trigger.AfterEach([]trigger.Trigger{trigger.AfterCount(3), trigger.Always()})),
			"Repeat(AfterEach(AfterCount(3), Always))"},
		{trigger.Repeat(trigger.AfterAny([]trigger.Trigger{trigger.AfterCount(3), trigger.Always()})),
			"Repeat(AfterAny(AfterCount(3), Always))"},
		{trigger.Repeat(trigger.AfterSynchronizedProcessingTime()), "Repeat(AfterSynchronizedProcessingTime)"},
		{trigger.OrFinally(trigger.Always(), trigger.AfterCount(2)), "OrFinally(Always, AfterCount(2))"},
	} {
		ws, err := graphx.MarshalWindowingStrategy(graphx.NewCoderMarshaller(),
			&window.WindowingStrategy{Fn: window.NewGlobalWindows(), Trigger: tc.sdk})
		if err != nil {
			t.Fatalf("%s: %v", tc.want, err)
		}
		m, err := New(ws.GetTrigger())
		if err != nil {
			t.Errorf("%s: New: %v", tc.want, err)
			continue
		}
		if m.String() != tc.want {
			t.Errorf("SDK trigger %s parses as %s", tc.want, m)
		}
	}
}
