// Package gen plans a captured pipeline and writes the Go file sluicegen produces.
//
// Analyze plans the capture with runner/plan (the JobManager's planner, with the server's
// default options), so the stages here are the stages the runner executes; it fingerprints
// each SDK stage (package fingerprint) and attaches the Go user function behind each
// transform from the capture. Generate writes the file with jennifer: a header listing
// every stage with its fingerprint and transforms and saying whether it runs natively, the
// edges with their wire coders, and a registry variable keyed by fingerprint. The output
// is gofmt-clean and deterministic (sorted, no timestamps, no paths).
//
// Typed edge coders (edgecoders.go): for each edge whose elements' Go types the capture
// knows (its ports' value trees, and the lifted combine's partial and grouped
// accumulators derived from them) and whose wire coder rt can write byte for byte,
// sluiceAppend<From>To<To> and sluiceDecode<From>To<To> over codegen/rt; any other edge is
// listed in the header with why not.
//
// This version generates no chains: every SDK stage says "native: not yet (portable)".
// The next step adds, per stage, a fused typed chain calling these coders, registered
// under the stage's fingerprint.
package gen
