package capture

import (
	"fmt"
	"strings"
)

// defaultWindowing is how windowingString renders the default strategy; Summary leaves it out.
const defaultWindowing = "GLO trigger=trigger.DefaultTrigger AccumulationMode_DISCARDING"

// Summary is a readable dump of the capture: counts of the pipeline's components, then each
// edge with its user function, methods and ports. Ports in the global window with the
// default trigger and bounded PCollections say nothing of either.
func (c *Capture) Summary() string {
	var b strings.Builder
	comps := c.Pipeline.GetComponents()
	fmt.Fprintf(&b, "pipeline: %d transforms, %d pcollections, %d coders, %d windowing strategies",
		len(comps.GetTransforms()), len(comps.GetPcollections()), len(comps.GetCoders()), len(comps.GetWindowingStrategies()))
	if r := c.Pipeline.GetRequirements(); len(r) > 0 {
		fmt.Fprintf(&b, "; requires %s", strings.Join(r, ", "))
	}
	b.WriteString("\n")
	for _, e := range c.Edges {
		fmt.Fprintf(&b, "%s %s", e.ID, e.Op)
		if e.Scope != "" {
			fmt.Fprintf(&b, " in %s", e.Scope)
		}
		if e.Composite != "" {
			fmt.Fprintf(&b, " (lifted from %s)", e.Composite)
		}
		b.WriteString("\n")
		if f := e.Fn; f != nil {
			fmt.Fprintf(&b, "  %s %s: %s", f.Kind, f.Name, f.Type)
			if f.Splittable {
				b.WriteString(" (splittable)")
			}
			b.WriteString("\n")
			for _, m := range f.Methods {
				fmt.Fprintf(&b, "  %s(%s)", m.Name, params(m.Params))
				if len(m.Returns) > 0 {
					fmt.Fprintf(&b, " (%s)", params(m.Returns))
				}
				b.WriteString("\n")
			}
			for _, s := range f.State {
				fmt.Fprintf(&b, "  state %s %s %s", s.ID, s.Kind, s.Type)
				if s.Key != "" {
					fmt.Fprintf(&b, " key %s", s.Key)
				}
				b.WriteString("\n")
			}
			for _, t := range f.Timers {
				fmt.Fprintf(&b, "  timer %s %s\n", t.Family, t.Domain)
			}
		}
		if e.WindowFn != "" {
			fmt.Fprintf(&b, "  window fn %s\n", e.WindowFn)
		}
		if e.AccumCoder != "" {
			fmt.Fprintf(&b, "  accumulator coder %s\n", e.AccumCoder)
		}
		for _, p := range e.Inputs {
			fmt.Fprintf(&b, "  in  %s %s %s coder=%s%s\n", p.Kind, p.PCollection, p.Type, p.Coder, portExtras(p))
		}
		for _, p := range e.Outputs {
			fmt.Fprintf(&b, "  out %s %s coder=%s%s\n", p.PCollection, p.Type, p.Coder, portExtras(p))
		}
	}
	return b.String()
}

func params(ps []Param) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, p.Kind+" "+p.Type)
	}
	return strings.Join(parts, ", ")
}

func portExtras(p Port) string {
	var s string
	if p.FnType != "" {
		s += " fn sees " + p.FnType
	}
	if p.Windowing != defaultWindowing {
		s += " windowing=" + p.Windowing
	}
	if !p.Bounded {
		s += " unbounded"
	}
	return s
}
