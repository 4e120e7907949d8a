// Package jobservice is Sluice's front door: the Beam Job API, artifact
// staging and retrieval, and the job store.
//
// What it owns:
//
//   - JobService (Prepare, Run, GetJobs, GetState, GetPipeline, GetStateStream,
//     GetMessageStream, Cancel, Drain, GetJobMetrics, DescribePipelineOptions).
//   - ArtifactStagingService: the reverse retrieval protocol in which the
//     server asks the submitting SDK for each environment dependency. Files are
//     stored content-addressed under DataDir/artifacts/sha256/<hex> and the
//     pipeline's dependencies are rewritten to beam:artifact:type:file:v1
//     pointing at them.
//   - ArtifactRetrieval: ArtifactRetrievalService for workers (boot,
//     materialize), serving only files inside DataDir/artifacts.
//   - The job lifecycle: STOPPED (prepared) → STARTING → RUNNING → DONE /
//     FAILED / CANCELLED, or DRAINING → DRAINED, with a bounded per-job
//     history of state changes and messages that the streams replay.
//   - Store: the durable record of each job (what was submitted and its last
//     state). MemStore is the embedded implementation; a raft-backed one can
//     implement the same interface.
//
// What it does not own: planning and running pipelines. The engine plugs in
// through Executor (declared here, by its consumer). Execute runs in a
// goroutine owned by the Server and receives a *Run through which it reports
// messages, the RUNNING transition, metrics and a drain hook.
//
// Compatibility notes (Beam Go SDK v2.77.0, runnerlib):
//
//   - The client ends on DONE or CANCELLED; after FAILED it waits for a
//     message of importance ≥ JOB_MESSAGE_ERROR, so the failure text is sent
//     as an ERROR message immediately before the FAILED state event. Every
//     stream ends (EOF) after the terminal state, which the client also treats
//     as success for DRAINED.
//   - Staging ends when the server returns from the handler; the client treats
//     EOF as success. The staging token doubles as the retrieval token.
package jobservice
