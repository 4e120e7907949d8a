// Package rt is the runtime that sluicegen's generated code calls: typed encoders and
// decoders for the values that cross a native stage's edges, byte for byte what the Go
// SDK's coders write, so that a native stage and a portable one can feed each other.
//
// The structural parts of the wire format (varints, instants, panes, windowed-value
// headers, iterables as the runner writes them) are runner/wire's; rt adds what only the
// Go types know: strings, bytes, the Go SDK's zig-zag "varintz" coder of int types (a
// custom coder, so it travels length-prefixed), doubles, bools, and iterables of typed
// values; and an element's windows (windows.go: kept in their wire form, assigned as the
// SDK's WindowInto assigns them). Every function is checked against the SDK's own
// encoders in the tests.
//
// Decoders take the bytes at the start of b and return the value and how many bytes it
// took; they never panic on bad input and wrap wire.ErrMalformed for bytes that cannot be
// a value. Appenders append to dst and return it, allocation-free when dst has room.
package rt
