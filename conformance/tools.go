//go:build tools

// Package conformance is a nested Go module that exists only to pin the Apache
// Beam Go SDK integration test packages, so that `go test -c` can compile them
// with a complete go.sum. tools/conformance builds the test binaries from here.
// The build tag keeps this file out of every normal build.
package conformance

import (
	_ "github.com/apache/beam/sdks/v2/go/test/integration/primitives"
	_ "github.com/apache/beam/sdks/v2/go/test/integration/synthetic"
	_ "github.com/apache/beam/sdks/v2/go/test/integration/wordcount"
	_ "github.com/apache/beam/sdks/v2/go/test/regression"
)
