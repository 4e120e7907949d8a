// Package fnharness is the runner side of the Beam Fn API.
//
// One [Server] listens on a single 127.0.0.1 port and hosts the Control, Data,
// State, Logging and Provision services (plus whatever the engine mounts through
// [ServerConfig.ExtraServices], such as artifact retrieval) for every SDK worker of
// every job. Streams are told apart by the worker_id gRPC metadata every Beam SDK
// stream carries; an unknown worker id is answered with NotFound.
//
// The engine drives workers through a small API:
//
//   - [NewServer] then [Server.Start] (or [Server.Serve] on a listener) and
//     [Server.Endpoint]; [Server.Stop] stops every worker and the server.
//   - [Server.StartWorker] brings up an SDK harness for an environment
//     (beam:env:external:v1 for LOOPBACK and EXTERNAL, beam:env:process:v1) and
//     returns once the worker's control stream is connected.
//   - [Worker.Register] stores a ProcessBundleDescriptor (filling in the data, state
//     and timer endpoints) for the SDK's lazy GetProcessBundleDescriptor call.
//   - [Worker.StartBundle] sends a ProcessBundleRequest and returns a [Bundle]
//     through which the engine sends input elements and timers, closes its input
//     (every is_last in one Elements message), drains outputs, asks for splits and
//     progress, and waits for the result.
//
// Concurrency model. Each SDK stream has one receive goroutine owned by its
// [Worker]; sends on a stream are serialized by a mutex and never happen after the
// stream's handler returned. Control responses are dispatched by instruction id.
// Outputs from the SDK are appended to the owning bundle's unbounded queue, so a
// slow consumer never stalls the shared data stream. State requests are routed by
// instruction id to the bundle's [StateHandler], each on its own goroutine, so a
// slow handler does not block the others. [Worker.Stop] and [Server.Stop] end every
// goroutine the package started.
//
// Failure model. A worker whose control stream ends (crash, disconnect, Stop) is
// done: [Worker.Done] closes, [Worker.Err] says why and carries the worker's last log
// lines, and every in-flight bundle fails with that error. A lost data stream fails
// the bundles in flight on the worker.
package fnharness
