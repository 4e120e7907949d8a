// Package shuffle moves records between the subtasks of connected stages.
//
// An edge of the job graph becomes one Exchange: P producer subtasks each get
// a Writer, and each of Q consumer subtasks gets the InputChannels addressed to
// it, which it merges (together with the channels of its other upstream edges)
// in one InputGate.
//
// Records are opaque byte slices; shuffle knows nothing about Beam. The
// partitioning decides which consumers see a record:
//
//   - Forward: producer i talks only to consumer i % Q (pointwise; no other
//     channels exist, so an idle producer cannot hold back an unrelated
//     consumer's watermark).
//   - Hash: key bytes -> key group (murmur3(key) % maxParallelism) -> the
//     subtask owning that key group, with Flink's contiguous range assignment,
//     so keyed state can be rescaled by key-group range.
//   - Broadcast: every consumer.
//   - RoundRobin: consumers in rotation (Beam's Reshuffle).
//
// Flow control is credit based, as in Flink. A Writer serializes records once,
// length-prefixed, straight into fixed-size pooled buffers (one open buffer per
// target channel). Sending a buffer costs one credit of the target channel;
// the receiving InputGate hands the credit back once it has read the buffer to
// the end. A writer without credit blocks, and the time it spends blocked is
// its backpressure. Watermarks, end-of-data and the processing time of a
// virtual clock (a TestStream's) travel in band, as the trailer of a buffer,
// so they stay ordered with the records of their channel.
//
// The package starts no goroutines. Every blocking call takes a context and
// returns its error promptly, so a consumer that stops reading cannot leak its
// producers: cancelling their context releases them.
//
// The ChannelSender interface is the transport boundary: Exchange wires
// writers to in-process channels, and a network transport only needs to
// provide senders (and feed receiving InputChannels) to reuse Writer and
// InputGate unchanged.
package shuffle
