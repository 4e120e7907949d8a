package capture

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"
)

// RunnerName is the Beam runner the overlay registers in the user's program: running the
// program with --runner=sluicecapture captures its pipeline instead of executing it.
const RunnerName = "sluicecapture"

// EnvOut names the environment variable that tells the capture runner where to write the
// capture file. The runner refuses to run without it.
const EnvOut = "SLUICE_CAPTURE_OUT"

// FormatVersion is the version of the capture file layout. Readers refuse other versions:
// the file only ever travels from a program built for this sluicegen to this sluicegen.
const FormatVersion = 3

// Capture is a pipeline as its program constructed it: the portable proto the runner
// would receive, and the Go facts about its user functions that only the program knows.
type Capture struct {
	// Pipeline is the pipeline marshalled by graphx.Marshal, as the universal runner would
	// submit it (with a placeholder environment).
	Pipeline *pipepb.Pipeline
	// Edges are the edges of the constructed graph (p.Build()), in graph order.
	Edges []Edge
}

// Edge is one graph.MultiEdge with the Go facts codegen needs.
type Edge struct {
	// ID is the edge's transform id in Pipeline ("e<N>", as graphx names it).
	ID string `json:"id"`
	// Op is the graph opcode: Impulse, ParDo, CoGBK, Reshuffle, Flatten, Combine, WindowInto, External.
	Op string `json:"op"`
	// Scope is the path of scopes holding the edge, outermost first, without the root.
	Scope string `json:"scope,omitempty"`
	// Composite is the id of the enclosing combine_per_key composite, for a Combine edge
	// the planner lifts (its leaves are then "<Composite>/precombine" and so on).
	Composite string `json:"composite,omitempty"`
	// Fn describes the DoFn (ParDo) or CombineFn (Combine).
	Fn *Fn `json:"fn,omitempty"`
	// WindowFn describes the window function of a WindowInto.
	WindowFn string `json:"window_fn,omitempty"`
	// AccumCoder is the accumulator coder of a Combine.
	AccumCoder string `json:"accum_coder,omitempty"`
	// Accum is the accumulator's value tree (see Value), for a Combine.
	Accum   *Value `json:"accum,omitempty"`
	Inputs  []Port `json:"inputs,omitempty"`
	Outputs []Port `json:"outputs,omitempty"`
}

// Fn is a user function: a plain Go function or a struct with methods.
type Fn struct {
	// Name is the symbol name: the package-qualified function name ("main.splitWords") or
	// struct type name ("github.com/x/y.countFn").
	Name string `json:"name"`
	// Kind is "func", "struct" or "dynamic" (a function generated at run time).
	Kind string `json:"kind"`
	// Type is the Go type: the receiver type of a struct, the signature of a function.
	Type string `json:"type"`
	// Methods are the Beam methods present, in Beam's order (Setup, StartBundle,
	// ProcessElement, ...); a function has the single method "ProcessElement".
	Methods []Method `json:"methods"`
	// Splittable is set for a splittable DoFn.
	Splittable bool `json:"splittable,omitempty"`
	// State lists the user state of a stateful DoFn, sorted by id.
	State []State `json:"state,omitempty"`
	// Timers lists the timer families of a DoFn, sorted by family.
	Timers []Timer `json:"timers,omitempty"`
}

// Method is one Beam method of a user function with its signature.
type Method struct {
	Name    string  `json:"name"`
	Params  []Param `json:"params,omitempty"`
	Returns []Param `json:"returns,omitempty"`
}

// Param is a parameter or result: its funcx kind (Context, Value, Emit, Iter, Window, ...)
// and its package-qualified Go type.
type Param struct {
	Kind string `json:"kind"`
	Type string `json:"type"`
}

// State is one user state declaration.
type State struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // Value, Bag, Combining, Map, Set
	Type string `json:"type"` // the state's value type
	Key  string `json:"key,omitempty"`
}

// Timer is one timer family.
type Timer struct {
	Family string `json:"family"`
	Domain string `json:"domain"` // EventTime or ProcessingTime
}

// Port is one input or output of an edge.
type Port struct {
	// Kind is the input kind (Main, Singleton, Slice, Iter, ReIter, Map, MultiMap); empty
	// for outputs.
	Kind string `json:"kind,omitempty"`
	// PCollection is the id of the PCollection in Pipeline ("n<N>").
	PCollection string `json:"pcollection"`
	// Type is the PCollection's full type (typex.FullType), concrete.
	Type string `json:"type"`
	// FnType is the full type the user function declares for the port, when it differs
	// from Type: a generic function sees T where the PCollection holds string.
	FnType string `json:"fn_type,omitempty"`
	// Coder is the PCollection's Go coder.
	Coder string `json:"coder"`
	// Value is the elements' Go shape and coding, as a tree (see Value).
	Value Value `json:"value"`
	// Windowing is the PCollection's windowing strategy.
	Windowing string `json:"windowing"`
	Bounded   bool   `json:"bounded"`
}

// file is the on-disk capture: JSON, with the pipeline proto as bytes (base64 in JSON).
type file struct {
	Format   int    `json:"format"`
	Pipeline []byte `json:"pipeline"`
	Edges    []Edge `json:"edges"`
}

// Marshal encodes c deterministically: the same capture always gives the same bytes.
func Marshal(c *Capture) ([]byte, error) {
	pb, err := proto.MarshalOptions{Deterministic: true}.Marshal(c.Pipeline)
	if err != nil {
		return nil, fmt.Errorf("encoding the pipeline: %w", err)
	}
	return json.MarshalIndent(file{Format: FormatVersion, Pipeline: pb, Edges: c.Edges}, "", "  ")
}

// Unmarshal decodes a capture written by Marshal.
func Unmarshal(b []byte) (*Capture, error) {
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("reading the capture: %w", err)
	}
	if f.Format != FormatVersion {
		return nil, fmt.Errorf("capture format %d, want %d: the program was built against another sluicegen version", f.Format, FormatVersion)
	}
	p := &pipepb.Pipeline{}
	if err := proto.Unmarshal(f.Pipeline, p); err != nil {
		return nil, fmt.Errorf("reading the captured pipeline: %w", err)
	}
	return &Capture{Pipeline: p, Edges: f.Edges}, nil
}

// ReadFile reads a capture file.
func ReadFile(path string) (*Capture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Unmarshal(b)
}

// WriteFile writes c to path atomically (a temporary file renamed into place), so that a
// reader never sees half a capture.
func WriteFile(path string, c *Capture) error {
	b, err := Marshal(c)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".capture-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
