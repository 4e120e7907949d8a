// Package state holds the runner's keyed state: the buffers a task keeps between records
// (large GroupByKey groups, side-input materializations, Beam user state; later timers).
//
// The Store interface is deliberately small: bags of byte values under byte keys, scanned
// in key order. Callers build keys from their own prefixes (state id, window, user key),
// so a backend only sorts and stores bytes. There are two backends:
//
//   - MemStore keeps one store in memory (tests, and `sluice serve --state-backend=memory`).
//   - PebbleDB is the one Pebble database of a worker process; each task store is a
//     namespace of it (PebbleDB.Store), and a finished job's state goes with one range
//     deletion (PebbleDB.DropNamespace).
//
// # Key layout in Pebble
//
// Strings followed by more key bytes are escaped and terminated: 0x00 becomes 0x00 0xFF,
// and 0x00 0x01 ends the string. Escaped strings keep their order and none is a prefix of
// another. The first byte of a key is its keyspace:
//
//	0x00 "seq"                                    sequence lease (uint64 BE)
//	0x01 | namespace | 0x00 0x02 | bag | 0x00     bag header: generation (uint64 BE)
//	0x01 | namespace | 0x00 0x02 | bag | 0x01 seq one value of the bag (seq uint64 BE)
//
// where bag is the caller's bag key escaped and terminated. A namespace is a path of
// names, each escaped and terminated (Namespace): the runner uses (job id, stage id,
// subtask, store), store being "main" (side inputs, and main input buffered meanwhile),
// "user" (user state) or "group" (large groups). A job's namespace is a prefix of its
// tasks', so one DeleteRange over [0x01|ns, successor) drops them all. The pair 0x00 0x02,
// which starts no escaped name, separates a store's bags from the namespaces nested
// under it.
//
// Every value has its own key: seq is a number handed out in increasing order across
// the database, so a bag reads back in append order and a key is never written twice.
// ClearBag therefore removes values with single deletes, which vanish together with
// their value at the next flush, and not with range deletions, which every later read
// would have to step over. It also sets the bag's generation to a new number: readers
// seek from the header to the first value at or after the generation, past the deleted
// values, so value state (read, clear, append, over and over) does not slow down as
// deletions pile up in the memtable. The lease record is written before the first value
// of every 65536 numbers, and a reopened database starts at the lease, so it never reuses
// a number even if the writes after the last lease were lost. Writes are not synced
// (durability comes from checkpoints); Close leaves everything readable.
//
// Key groups are not part of the key yet: a task's namespace holds the state of the
// key-group range its subtask owns. Rescaling will put keyGroup (uint16 BE) first in the
// bag keys of keyed state, so that a key-group range is a key range.
package state
