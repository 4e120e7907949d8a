// Package gen plans a captured pipeline and writes the Go file sluicegen produces.
//
// Analyze plans the capture with runner/plan (the JobManager's planner, with the server's
// default options), so the stages here are the stages the runner executes; it fingerprints
// each SDK stage (package fingerprint) and attaches the Go user function behind each
// transform from the capture. Generate writes the file with jennifer: a header listing
// every stage with its fingerprint and transforms and saying whether it runs natively, the
// edges with their wire coders, a registry variable keyed by fingerprint, and the chains of
// native stages. The output is gofmt-clean and deterministic (sorted, no timestamps, no
// paths).
//
// Typed edge coders (edgecoders.go): for each edge whose elements' Go types the capture
// knows (its ports' value trees, and the lifted combine's partial and grouped
// accumulators derived from them) and whose wire coder rt can write byte for byte,
// sluiceAppend<From>To<To> and sluiceDecode<From>To<To> over codegen/rt; any other edge is
// listed in the header with why not.
//
// Chains (chains.go plans them, chains_emit.go and chains_structs.go write them): for
// each SDK stage whose every transform is covered, a sluiceStage<S>/sluiceBundle<S> pair
// implementing rt.Stage and rt.Bundle, registered by fingerprint from init (the file then
// also imports codegen/native). Covered: function DoFns with a main input only, element
// (V) or (K, V), optional context.Context and beam.EventTime parameters, emitters
// func(O), func(K, V) (optionally with a leading event time), results none, O,
// (O, error), (K, V), (K, V, error), error, optionally with a leading event time; grouped
// values (a GroupByKey's output, KV<K, iterable<V>> on the wire) taken as an iterator
// func(*V) bool (the SDK refuses func() func(*V) bool there) over rt.Values, which
// reads the values of a large group that stay in runner state as it reaches them
// (chains_groups.go); a
// CoGroupByKey of several inputs (chains_cogbk.go: the SDK's inject steps at the tails of
// its inputs' stages, its expand at the head of the consuming stage, each input's values
// handed on as a GroupByKey's are); the lifted combine's
// precombine (a per-bundle cache in first-seen order, flushed past 2000 keys and at
// Finish; keys told apart as the SDK tells them apart, by Go equality for string,
// integer and bytes keys and by their encoding with the SDK's key coder for row- and
// custom-coded keys, chains_combine_keys.go; not float64 or bool keys, on which the
// Go SDK's lifted combine fails), merge and extract, and a combine the planner does not lift, for merge
// functions and struct CombineFns (chains_combine.go: CreateAccumulator, AddInput,
// MergeAccumulators, ExtractOutput as the SDK's exec nodes call them, with contexts and
// errors; Setup and Teardown; accumulators the generated package cannot name held as
// any and the methods called through the SDK's callers); side inputs in global, fixed and
// sliding windows with typed coders (chains_side.go: a singleton, Iter, ReIter or
// multimap parameter, read at first use once per bundle through rt's SideInputReader, a
// multimap once per key and bundle, a windowed one in the window the element's maps to
// and again when that changes); user state of struct DoFns taking a state.Provider
// (chains_state.go: value, bag, combining, map, set and ordered list state on a KV
// input, the DoFn called once per window, each call with a new provider from
// rt.UserStates, which the SDK's exec stateProvider is ported to, over rt's
// UserStateReader)
// and timers (chains_timers.go: a timers.Provider parameter and OnTimer taking a context,
// its window and event time, the providers, its key and timers.Context and the emitters; rt.UserTimers, exec's timer adapter and ProcessTimers
// ported, keeps what a bundle sets and fires what the runner sends); bounded splittable DoFns
// (chains_sdf.go: pair and split at a stage's tail, process at the next one's head, as
// the SDK's exec nodes run them; not ProcessContinuation results or watermark
// estimators); the global window and interval windows (chains_windowing.go: WindowInto into
// global, fixed, sliding or session windows, assigned as the SDK assigns them; a DoFn's
// window parameter, the DoFn called once per window of an element in several, as the SDK
// calls it; the precombine keyed per key and window; the element's windows travel in its
// header). A stage's input and outputs use typed coders where
// they exist, else the SDK's own coder through rt.SDKCodec (chains_sdk.go: rows, custom
// types, a splittable DoFn's sized elements; the header names those ports). Functions the generated package can name are called directly;
// others are resolved once per stage instance with rt.Func and called through their
// declared signature (typex.T values converted with a checked assertion). Values of a
// type the generated package cannot name (an unexported type of another package) are
// held as any: a ParDo whose signature names such a type is called through the SDK's
// own caller of it with any values (chains_boxed.go: rt.DecodeBoxedDoFn, per stage
// instance; not with side inputs or iterators or emitters of such values), one whose
// signature takes them as universal types is called typed, and intrinsics and
// WindowInto pass them on as they are. Struct DoFns
// take the same ProcessElement forms: each stage instance decodes its own from the
// transform's payload (env.Payload by unique name, rt.DoFn: configuration restored as the
// SDK restores it), asserted to its type when the package can name it, else called
// through method values of one-method interfaces it asserts; Setup runs in the factory, StartBundle at
// StartBundle (downstream steps first), FinishBundle at Finish in step order with the
// lifted combines' flushes (so what it emits reaches later steps before they finish),
// Teardown in Stage.Teardown; lifecycle methods may take a context and ProcessElement's
// emitters (what they emit is at time zero with no firing pane) and return an error.
// Each PCollection of the stage becomes a method handing an element to its consumers,
// each transform a method calling the user function; the element's header travels in a
// field. Anything else keeps the stage portable, and the header says why (Stage.Why).
package gen
