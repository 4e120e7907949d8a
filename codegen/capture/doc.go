// Package capture obtains a Go pipeline as its program constructs it, without changing the
// program.
//
// Why: the Go types of a pipeline (DoFn structs and functions, their method signatures,
// emitters, full types and coders) exist only inside the program that builds it; the
// pipeline proto a runner receives keeps them as opaque payloads. Generated native code
// needs them, so sluicegen has to look inside the running program.
//
// How: Build compiles the main package with `go build -overlay`, the overlay adding a file
// (OverlayFileName, never written to the package directory) whose blank import of package
// hook registers the Beam runner "sluicecapture". Program.Capture runs the binary in the
// package directory with --runner=sluicecapture followed by the pipeline's own flags, and
// with $SLUICE_CAPTURE_OUT naming a temporary file. When main runs its pipeline (beamx.Run,
// or beam.Run with the --runner flag), the runner calls Record instead of executing:
// p.Build() for the graph edges, graphx.Marshal with a placeholder external environment
// for the proto (as the universal runner would submit it), and the Go facts of each edge.
// It writes them to the file (JSON, the proto as bytes) and exits the program with status
// 0. Run does both steps under one timeout and removes its temporary files.
//
// Limits: the program must pick its runner through the --runner flag; one pipeline is
// captured per run (the first one run); flags the program requires must be passed.
package capture
