// Package native is the worker side of Sluice's native execution: it runs, inside the
// user's own binary, the stages whose fused typed chains sluicegen generated into it.
//
// A generated file registers its chains with codegen/rt (rt.RegisterStage, by stage
// fingerprint) and imports this package, whose init registers and enables the Beam Go
// hook protocol.HookName. When the Go SDK starts a harness in the process (in LOOPBACK
// mode the submitting program itself, in PROCESS mode the worker binary Sluice started),
// the hook's Init starts a Harness next to it: a second Fn API client of the runner,
// named after the SDK worker, which announces the fingerprints it carries. The runner
// then sends the bundles of matching stages to it instead of to the SDK harness: elements
// arrive in blocks on the data stream in the stage's wire coders, each is decoded by the
// chain's typed decoder and run through the user's functions as plain Go calls, and what
// the chain emits is encoded by typed encoders and sent back in blocks. There is no
// per-element Fn API work and no reflection. Stages it does not carry stay on the SDK
// harness, which is also what the runner falls back to when the native harness does not
// connect.
//
// The blocks are a byte stream, as the Fn API has them: an element may start in one block
// and end in a later one (the runner sends a large group in pieces). A chain's decoder
// then runs out of bytes; the harness checks with the input port's wire codec that the
// element is cut rather than malformed, completes it from the blocks that follow
// (wire.ElementReader) and runs it whole. Decoding comes before any user code, so nothing
// has seen the element when it is found cut.
//
// The protocol beyond the Fn API is in package protocol. Where the harness dials: the
// pipeline option protocol.EndpointOption when the runner provisioned it (PROCESS), else
// the job endpoint (--endpoint), which Sluice serves the Fn API on as well (LOOPBACK).
//
// Side inputs: chains read them through rt.SideInputReader, which the harness hands each
// bundle in its context; the harness's one State API stream carries every bundle's
// requests (under its instruction id), multiplexed by request id, and follows
// continuation tokens (state.go). The runner serves them from the stage's task, as it
// serves the SDK harness's. It announces protocol.CapabilitySideInputs.
//
// User state: stateful ParDos read and write it through rt.UserStateReader, handed each
// bundle the same way, over the same stream (bag, multimap, multimap keys and ordered
// list user state keys, the last with a sort key range on gets and clears, as the SDK
// harness sends them). It announces protocol.CapabilityUserState.
//
// Timers: timer elements the runner sends on the data stream go to the bundle's inbox
// with its data (a message's timers before its data, as the SDK harness takes them) and
// to the chain (rt.TimerBundle); once the bundle finished, the timers it set go back on
// the data stream, every timer family of the stage ended with is_last, as the runner
// expects of the SDK harness. It announces protocol.CapabilityTimers.
//
// Large groups: the runner keeps a large group's values out of its element, which ends
// in a state token, as for the SDK harness (in memory as gathered, or in its store past
// jobmanager.NativeGroupInlineBytes). A chain whose bundles read such values as they
// iterate them (rt.GroupStateBundle, rt.Values) gets the element as it is; for the others
// the harness reads the rest, page by page over the State stream (a Runner state key),
// and hands the chain the group inline (groups.go). It announces
// protocol.CapabilityGroupState.
//
// Concurrency: the Harness owns a control, a data and a state receive loop; each
// bundle runs on its own goroutine, owned by the Harness and ended by its context. Sends
// on a stream are serialized by a mutex. Stage instances are pooled per descriptor, one
// bundle at a time each.
package native
