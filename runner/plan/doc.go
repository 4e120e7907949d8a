// Package plan turns a Beam pipeline proto into a JobGraph: the stages Sluice runs and the
// edges between them.
//
// It is a pure function of the pipeline: no I/O, no goroutines. The same package is used by
// the JobManager at Prepare/Run time and (later) by sluicegen, so that stage boundaries are
// identical wherever they are computed.
//
// Steps, in order:
//   - validate: every leaf transform has a URN Sluice can run, every coder on a
//     PCollection that crosses a stage boundary is one the runner can parse once unknown
//     parts are length-prefixed, and references resolve. Errors name the transform.
//   - preprocess: lift combiners (precombine | GBK | merge + extract), expand splittable
//     DoFns (pair with restriction | split and size | process sized), flatten composites
//     into their leaves.
//   - fuse: greedily chain SDK transforms into stages; break at runner transforms (Impulse,
//     GroupByKey), at keyed (stateful) ParDos, before and after SDF processing (so
//     restrictions, and what they read, spread over subtasks) and at ParDos with side
//     inputs (their side inputs gate the whole stage).
//   - describe: each SDK stage gets a ProcessBundleDescriptor with data ports whose coders
//     are windowed_value(length-prefixed element coder, window coder).
package plan
