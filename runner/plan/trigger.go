package plan

import (
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/runner/trigger"
	"github.com/sluice-runner/sluice/runner/window"
)

// checkGroupingTrigger refuses the windowing strategies a GroupByKey cannot honour: a
// trigger runner/trigger does not know, and any trigger but the default on merging
// (session) windows, which the GroupByKey merges lazily, once the watermark passes them.
// Triggers matter only where values are grouped, so a trigger on a PCollection that is
// re-windowed before any grouping (as Beam's TestPanes does) is accepted.
func checkGroupingTrigger(ws *pipepb.WindowingStrategy) error {
	t := ws.GetTrigger()
	if t.GetTrigger() == nil {
		return nil // Default
	}
	m, err := trigger.New(t)
	if err != nil {
		return fmt.Errorf("its input's trigger: %w", err)
	}
	if _, isDefault := t.GetTrigger().(*pipepb.Trigger_Default_); isDefault {
		return nil
	}
	s, err := window.StrategyFromProto(ws)
	if err != nil {
		return err
	}
	if s.Merging {
		return fmt.Errorf("its input's trigger is %s on merging windows (%s); Sluice supports only the Default trigger on merging windows yet", m, s.WindowFnURN)
	}
	return nil
}
