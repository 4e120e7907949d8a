package plan

import (
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/runner/trigger"
)

// checkGroupingTrigger refuses the windowing strategies a GroupByKey cannot honour: a
// trigger runner/trigger does not know or that is malformed. Triggers matter only where
// values are grouped, so a trigger on a PCollection that is re-windowed before any grouping
// (as Beam's TestPanes does) is accepted.
func checkGroupingTrigger(ws *pipepb.WindowingStrategy) error {
	t := ws.GetTrigger()
	if t.GetTrigger() == nil {
		return nil // Default
	}
	if _, err := trigger.New(t); err != nil {
		return fmt.Errorf("its input's trigger: %w", err)
	}
	return nil
}
