// Package window holds the window semantics the runner itself applies:
// reading a pipeline's WindowingStrategy, assigning windows where the runner
// creates elements, merging session windows in GroupByKey, choosing the
// output timestamp of a grouped pane (Beam's TimestampCombiner) and the
// time after which a window's state can be dropped.
//
// Windows themselves, and their encodings, live in package wire; this
// package only decides with them. Times are event-time milliseconds, with
// the same bounds as the Beam Go SDK's mtime package.
package window
