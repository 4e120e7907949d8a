// Package fingerprint names the shape of a planned SDK stage with a stable hash.
//
// Why: generated native code is written at go generate time, but runs against whatever
// pipeline the program later submits. A worker must know, from the pipeline it received,
// whether the generated chain for a stage still fits it. Both sides compute the same
// fingerprint, sluicegen from the captured proto and the runner from the submitted one; a
// mismatch means "run this stage portably".
//
// What goes in (see Describe, whose lines are what is hashed): for each transform of the
// stage in plan order, its unique name and URN; for Go user functions, the function symbol
// or struct type and a hash of the serialized signature and input/output types; side
// inputs, state, timers and flags of ParDos; how each input is wired (to the stage input,
// to an earlier transform's output, or from outside) and, for every PCollection, the
// structure of its coder (URNs, payload hashes, components) and windowing strategy. What
// stays out: PCollection, coder and windowing strategy ids (they number things and shift
// when unrelated parts change), environments, and struct DoFn field values (configuration
// the generated code reads from the payload at run time).
//
// The package depends only on Beam's protos, so the runner and the native harness can use
// it without depending on sluicegen.
package fingerprint
