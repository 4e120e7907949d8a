// Package codegen is the home of sluicegen's parts: it turns a Go pipeline, as its program
// constructs it, into generated Go that Sluice's workers can run natively. This package
// itself holds only this overview and the end-to-end golden tests (testdata/<name>/ are
// small pipeline programs, each with its golden.txt script).
//
// Why: a Go pipeline reaches a portable runner as a proto whose user code is opaque; the
// runner then hands every element to an SDK harness over the Fn API, boxed through any
// and reflection. The types are only known where the pipeline is constructed, so sluicegen
// runs there, at go generate time, and writes type-specialized code into the user's own
// package: the worker binary is the user's binary, so the code ships with it.
//
// The flow (tools/sluicegen drives it):
//
//  1. capture: build the user's main package with a go build overlay that adds one file
//     registering the "sluicecapture" Beam runner, and run it with --runner=sluicecapture
//     plus the pipeline's own flags. The runner builds the graph, marshals it exactly as
//     the universal runner would, and writes the proto and the Go facts of every edge
//     (DoFn types, method signatures, emitters, full types, coders) to a file. The user's
//     main does not change. See package capture.
//  2. plan: plan the captured proto with runner/plan, the planner the JobManager uses, so
//     that stage boundaries are the ones the runner will execute. See package gen.
//  3. fingerprint: hash each SDK stage's shape (transform names, URNs, user function
//     identity and signature, wiring, coder and windowing structure; not ids that number
//     things, not DoFn configuration). The runner computes the same fingerprint from the
//     pipeline it receives, which is how a worker knows whether generated code matches a
//     stage. See package fingerprint.
//  4. generate: write <dir>_sluice.go with jennifer: a header saying, for every stage, its
//     fingerprint, transforms and whether it runs natively (and if not, why), a registry
//     keyed by fingerprint, typed coders for the edges, and a fused typed chain for each
//     SDK stage that can run natively, registered with rt.RegisterStage from init. Output
//     is gofmt-clean and the same bytes on every run. See package gen.
//
// A chain runs a whole stage as plain Go calls: the input edge's typed decoder, then each
// transform in turn (function DoFns called directly, or resolved once by name when the
// generated package cannot name them; struct DoFns decoded from the runner's payload with
// their configuration, once per stage instance, their methods called directly, through
// one-method interfaces when the package cannot name their type, their lifecycle run as
// the SDK runs it; SDK functions that only rearrange their arguments, such as stats.Count's
// keyedCountFn, written out typed rather than called on boxed values; the lifted combine's
// precombine (its keys told apart by their encoding, as the SDK's are, where Go
// equality could disagree: rows, custom coders), merge and extract, or a combine it does
// not lift, for a merge function or a struct CombineFn (its accumulator held as any,
// its methods called through the SDK's callers, when the package cannot name their
// types); a bounded splittable DoFn's pair,
// split and process steps, as the SDK's exec nodes run them; a multi-input
// CoGroupByKey's inject and expand steps, as the SDK's nodes run them; iterators over
// grouped values; WindowInto and DoFns taking their window, on global or interval
// windows; ParDos over values of unexported types, called through the SDK's callers; side
// inputs, user state and timers through the native harness's State API stream and data
// stream, as the SDK's exec nodes use them), the element's header (time, pane, windows)
// travelling alongside, and the output edges' typed appenders (the SDK's own coder,
// through rt.SDKCodec, on a stage port whose values have no typed coder: rows, custom
// types, sized restrictions). A stage with anything not covered (side inputs outside the
// global window or without typed coders, timers with side
// inputs, self-checkpointing splittable DoFns, custom windows, lifted combines on float64
// or bool keys, on which the Go SDK fails, ...) stays portable, and
// the header says why. When the file registers a chain it also imports codegen/native,
// the worker-side harness that runs registered chains next to the SDK harness.
//
// Package rt is the runtime the generated code calls: typed wire coders for the Go values
// on a native stage's edges, byte-identical to the Go SDK's encoders (checked against them
// in its tests), and the Stage/Bundle interface and registry that chains implement and the
// native harness looks up by fingerprint.
//
// Package native is that harness: a second Fn API client of the runner in the user's
// binary, started by a Beam hook, announcing its chains' fingerprints; native/protocol is
// what it and the runner agree on beyond the Fn API.
//
// Dependencies: gen uses runner/plan (a pure function of the pipeline, shared on purpose);
// capture and fingerprint import nothing of the runner, so the runner and the native
// harness can use fingerprint without a cycle; rt uses runner/wire (the wire format is
// the contract between native and portable stages) and the Go SDK's runtime (to find the
// user's functions, DoFns, coders and metrics in the binary); the runner imports only
// native/protocol of the native side.
package codegen
