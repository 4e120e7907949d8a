package shuffle

import (
	"fmt"
	"testing"
)

func TestKeyGroupRangeForKnownRanges(t *testing.T) {
	// Worked examples of Flink's computeKeyGroupRangeForOperatorIndex.
	tests := []struct {
		subtask, parallelism, maxParallelism int
		want                                 KeyGroupRange
	}{
		{0, 1, 128, KeyGroupRange{0, 128}},
		{0, 2, 128, KeyGroupRange{0, 64}},
		{1, 2, 128, KeyGroupRange{64, 128}},
		{0, 3, 128, KeyGroupRange{0, 43}},
		{1, 3, 128, KeyGroupRange{43, 86}},
		{2, 3, 128, KeyGroupRange{86, 128}},
		{0, 128, 128, KeyGroupRange{0, 1}},
		{127, 128, 128, KeyGroupRange{127, 128}},
		{4, 7, 10, KeyGroupRange{6, 8}},
	}
	for _, tt := range tests {
		if got := KeyGroupRangeFor(tt.subtask, tt.parallelism, tt.maxParallelism); got != tt.want {
			t.Errorf("KeyGroupRangeFor(%d, %d, %d) = %v, want %v", tt.subtask, tt.parallelism, tt.maxParallelism, got, tt.want)
		}
	}
}

func TestKeyGroupRangesPartitionAllGroups(t *testing.T) {
	for _, maxP := range []int{1, 7, 128, 1000, MaxMaxParallelism} {
		for _, p := range []int{1, 2, 3, 5, 7, 64, 127, 128, 1000} {
			if p > maxP {
				continue
			}
			t.Run(fmt.Sprintf("p=%d/max=%d", p, maxP), func(t *testing.T) {
				next := 0
				minLen, maxLen := maxP, 0
				for s := range p {
					r := KeyGroupRangeFor(s, p, maxP)
					if r.Start != next {
						t.Fatalf("subtask %d range %v starts at %d, want %d (gap or overlap)", s, r, r.Start, next)
					}
					if r.Len() < 1 {
						t.Fatalf("subtask %d owns no key group: %v", s, r)
					}
					minLen, maxLen = min(minLen, r.Len()), max(maxLen, r.Len())
					next = r.End
				}
				if next != maxP {
					t.Fatalf("ranges end at %d, want %d", next, maxP)
				}
				if maxLen-minLen > 1 {
					t.Errorf("unbalanced ranges: sizes from %d to %d", minLen, maxLen)
				}
			})
		}
	}
}

func TestSubtaskForKeyGroupIsInverseOfRanges(t *testing.T) {
	for _, maxP := range []int{7, 128, 1000} {
		for _, p := range []int{1, 2, 3, 5, 7} {
			ranges := make([]KeyGroupRange, p)
			for s := range p {
				ranges[s] = KeyGroupRangeFor(s, p, maxP)
			}
			for kg := range maxP {
				s := SubtaskForKeyGroup(kg, p, maxP)
				if s < 0 || s >= p || !ranges[s].Contains(kg) {
					t.Fatalf("p=%d max=%d: SubtaskForKeyGroup(%d) = %d, whose range is not containing it", p, maxP, kg, s)
				}
			}
		}
	}
}

func TestKeyGroup(t *testing.T) {
	tests := []struct {
		key            []byte
		maxParallelism int
		want           int
	}{
		{[]byte(""), 128, 0},
		{[]byte("hello"), 128, 0x248bfa47 % 128},
		// 0x85f0b427 has its top bit set: a signed 32-bit modulo would
		// give a negative group.
		{[]byte{0, 0, 0}, 128, 0x27},
		{[]byte{0, 0, 0}, 1000, 487},
		{[]byte("hello"), 0, 0x248bfa47 % DefaultMaxParallelism},
	}
	for _, tt := range tests {
		if got := KeyGroup(tt.key, tt.maxParallelism); got != tt.want {
			t.Errorf("KeyGroup(%q, %d) = %d, want %d", tt.key, tt.maxParallelism, got, tt.want)
		}
	}
	for i := range 10000 {
		key := fmt.Appendf(nil, "k%d", i)
		if kg := KeyGroup(key, 1000); kg < 0 || kg >= 1000 {
			t.Fatalf("KeyGroup(%q, 1000) = %d, out of range", key, kg)
		}
	}
}

func TestKeyGroupRangeContains(t *testing.T) {
	r := KeyGroupRange{Start: 3, End: 6}
	for kg, want := range map[int]bool{2: false, 3: true, 5: true, 6: false} {
		if got := r.Contains(kg); got != want {
			t.Errorf("%v.Contains(%d) = %v, want %v", r, kg, got, want)
		}
	}
}
