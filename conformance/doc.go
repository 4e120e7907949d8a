// Package conformance pins the Beam Go SDK integration test packages (see
// tools.go) for tools/conformance. It has no code of its own.
package conformance
