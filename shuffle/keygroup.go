package shuffle

// DefaultMaxParallelism is the number of key groups when a job does not
// choose one. It bounds how far a keyed stage can later be scaled out.
const DefaultMaxParallelism = 128

// MaxMaxParallelism is the largest supported number of key groups; state keys
// store the key group as a big-endian uint16 and Flink uses the same bound.
const MaxMaxParallelism = 1 << 15

// KeyGroup returns the key group of key: murmur3(key, seed 0) modulo
// maxParallelism. A non-positive maxParallelism means DefaultMaxParallelism.
func KeyGroup(key []byte, maxParallelism int) int {
	if maxParallelism <= 0 {
		maxParallelism = DefaultMaxParallelism
	}
	// Unsigned modulo keeps the result non-negative for every hash.
	return int(Murmur3(key, 0) % uint32(maxParallelism))
}

// KeyGroupRange is the half-open range [Start, End) of key groups owned by one
// subtask.
type KeyGroupRange struct{ Start, End int }

// Contains reports whether kg lies in the range.
func (r KeyGroupRange) Contains(kg int) bool { return kg >= r.Start && kg < r.End }

// Len is the number of key groups in the range.
func (r KeyGroupRange) Len() int {
	if r.End < r.Start {
		return 0
	}
	return r.End - r.Start
}

// KeyGroupRangeFor returns the contiguous key groups owned by subtask out of
// parallelism subtasks, exactly as Flink's
// KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex does, so that
// state written by Flink-shaped rescaling logic lines up. It is the inverse of
// SubtaskForKeyGroup. Arguments must satisfy
// 0 <= subtask < parallelism <= maxParallelism.
func KeyGroupRangeFor(subtask, parallelism, maxParallelism int) KeyGroupRange {
	start := (subtask*maxParallelism + parallelism - 1) / parallelism
	lastInclusive := ((subtask+1)*maxParallelism - 1) / parallelism
	return KeyGroupRange{Start: start, End: lastInclusive + 1}
}

// SubtaskForKeyGroup returns the subtask that owns keyGroup, as Flink's
// computeOperatorIndexForKeyGroup: keyGroup * parallelism / maxParallelism.
func SubtaskForKeyGroup(keyGroup, parallelism, maxParallelism int) int {
	return keyGroup * parallelism / maxParallelism
}
