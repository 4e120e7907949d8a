// Package worker runs the tasks of a job: one goroutine per subtask of a stage, each a loop
// that reads its input gates, runs records through its operator and writes its result
// partitions.
//
// Operators:
//   - ImpulseTask emits Impulse's single element.
//   - GroupTask is the runner's GroupByKey: it buffers values per (window, key) and
//     emits panes when the window's trigger (runner/trigger) fires and when the window
//     expires.
//   - SDKTask runs a fused stage in an SDK harness, one bundle at a time, materializing
//     its side inputs first and serving them over the Fn API state service. It keeps the
//     stage's user state and timers (TimerSet) and fires timers as the input watermark
//     and processing time pass them.
//   - TestStreamTask replays a TestStream, and owns the job's processing time then.
//
// A task never blocks on anything but its inputs, its outputs' credit or its bundle, and
// every wait also watches the task's context, so cancelling the job stops every task.
// Watermarks travel in band: a task forwards its input watermark after it has emitted
// everything the watermark covers; end of data is watermark +inf followed by the end.
package worker
