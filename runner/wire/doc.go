// Package wire reads and writes Beam element encodings at the byte level,
// for the runner side of the Fn API.
//
// The runner never decodes user values. It moves elements as encoded bytes
// and only needs to find element boundaries, read the windowed-value header
// (timestamp, windows, pane), split KV elements into key and value bytes (to
// hash and group keys), and build GroupByKey outputs. It can do that only for
// the coders it understands, so every coder that crosses the SDK boundary is
// first rewritten by LengthPrefixUnknownCoders: any component the runner
// cannot parse (user coders such as beam:go:coder:custom:v1, row, ...) gets
// wrapped in beam:coder:length_prefix:v1, which the runner can skip.
//
// Everything here works on []byte with explicit lengths rather than
// io.Reader, so that the hot path (cutting a data-plane chunk into elements,
// reading headers) does not allocate per element. All encodings are in the
// nested context, which is what the Fn API data plane uses.
//
// Incomplete input is reported as io.ErrUnexpectedEOF (unwrapped, so that
// stream readers can wait for more bytes); malformed input as an error
// wrapping ErrMalformed that names the coder at fault. Nothing here panics on
// bad input.
package wire
