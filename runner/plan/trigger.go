package plan

import (
	"fmt"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

// checkGroupingTrigger refuses the windowing strategies a GroupByKey cannot honour yet:
// any trigger but Default and Always (which Beam's Reshuffle uses), and accumulating panes
// where a window can have several (a later pane would have to repeat the earlier values). Triggers matter only where
// values are grouped, so a trigger on a PCollection that is re-windowed before any grouping
// (as Beam's TestPanes does) is accepted.
func checkGroupingTrigger(ws *pipepb.WindowingStrategy) error {
	name := triggerName(ws.GetTrigger())
	if name != "Default" && name != "Always" {
		return fmt.Errorf("its input's trigger is %s; Sluice supports only the Default and Always triggers yet", name)
	}
	if ws.GetAccumulationMode() == pipepb.AccumulationMode_ACCUMULATING && (ws.GetAllowedLateness() > 0 || name == "Always") {
		return fmt.Errorf("its input accumulates panes (trigger %s, allowed lateness %d ms); Sluice supports several panes per window only in discarding mode yet", name, ws.GetAllowedLateness())
	}
	return nil
}

// triggerName renders a trigger the way Beam's SDKs name them, nested ones included.
func triggerName(t *pipepb.Trigger) string {
	sub := func(name string, ts ...*pipepb.Trigger) string {
		s := name + "("
		for i, st := range ts {
			if i > 0 {
				s += ", "
			}
			s += triggerName(st)
		}
		return s + ")"
	}
	switch t := t.GetTrigger().(type) {
	case nil, *pipepb.Trigger_Default_:
		return "Default"
	case *pipepb.Trigger_AfterAll_:
		return sub("AfterAll", t.AfterAll.GetSubtriggers()...)
	case *pipepb.Trigger_AfterAny_:
		return sub("AfterAny", t.AfterAny.GetSubtriggers()...)
	case *pipepb.Trigger_AfterEach_:
		return sub("AfterEach", t.AfterEach.GetSubtriggers()...)
	case *pipepb.Trigger_AfterEndOfWindow_:
		return "AfterEndOfWindow"
	case *pipepb.Trigger_AfterProcessingTime_:
		return "AfterProcessingTime"
	case *pipepb.Trigger_AfterSynchronizedProcessingTime_:
		return "AfterSynchronizedProcessingTime"
	case *pipepb.Trigger_Always_:
		return "Always"
	case *pipepb.Trigger_ElementCount_:
		return fmt.Sprintf("AfterCount(%d)", t.ElementCount.GetElementCount())
	case *pipepb.Trigger_Never_:
		return "Never"
	case *pipepb.Trigger_OrFinally_:
		return sub("OrFinally", t.OrFinally.GetMain(), t.OrFinally.GetFinally())
	case *pipepb.Trigger_Repeat_:
		return sub("Repeat", t.Repeat.GetSubtrigger())
	default:
		return fmt.Sprintf("%T", t)
	}
}
