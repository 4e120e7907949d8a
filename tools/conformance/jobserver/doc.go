// Package jobserver starts and stops a Beam job server process (bin/sluice,
// or any server that prints its Job API address, such as Beam's prism) for
// the tools that drive pipelines against it: tools/conformance,
// tools/runexample, tools/bench and tools/modelcheck. Run runs a pipeline
// program the same way, in a process group that goes with it.
//
// The server runs in its own process group. Start waits until the server
// prints its job endpoint (by default a log line containing
// job_endpoint=HOST:PORT); Stop sends SIGTERM to the group and SIGKILL after
// a grace period. Callers must always call Stop, also on error paths.
package jobserver
