package shuffle

import (
	"fmt"
	"testing"
)

func TestMurmur3KnownVectors(t *testing.T) {
	// Published MurmurHash3_x86_32 vectors; together they cover every tail
	// length (0-3 bytes) and non-zero seeds.
	tests := []struct {
		data []byte
		seed uint32
		want uint32
	}{
		{[]byte(""), 0, 0},
		{[]byte(""), 1, 0x514e28b7},
		{[]byte(""), 0xffffffff, 0x81f16f39},
		{[]byte("hello"), 0, 0x248bfa47},
		{[]byte("The quick brown fox jumps over the lazy dog"), 0, 0x2e4ff723},
		{[]byte("The quick brown fox jumps over the lazy dog"), 0x9747b28c, 0x2fa826cd},
		{[]byte("Hello, world!"), 0x9747b28c, 0x24884cba},
		{[]byte("a"), 0x9747b28c, 0x7fa09ea6},
		{[]byte("ab"), 0x9747b28c, 0x74875592},
		{[]byte("abc"), 0x9747b28c, 0xc84a62dd},
		{[]byte("abcd"), 0x9747b28c, 0xf0478627},
		{[]byte("aaaa"), 0x9747b28c, 0x5a97808a},
		{[]byte{0, 0, 0, 0}, 0, 0x2362f9de},
		{[]byte{0, 0, 0}, 0, 0x85f0b427},
		{[]byte{0, 0}, 0, 0x30f4c306},
		{[]byte{0}, 0, 0x514e28b7},
		{[]byte{0xff, 0xff, 0xff, 0xff}, 0, 0x76293b50},
		{[]byte{0x21, 0x43, 0x65, 0x87}, 0, 0xf55b516b},
		{[]byte{0x21, 0x43, 0x65, 0x87}, 0x5082edee, 0x2362f9de},
		{[]byte{0x21, 0x43, 0x65}, 0, 0x7e4a8634},
		{[]byte{0x21, 0x43}, 0, 0xa0f7b07a},
		{[]byte{0x21}, 0, 0x72661cf4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/seed=%#x", tt.data, tt.seed), func(t *testing.T) {
			if got := Murmur3(tt.data, tt.seed); got != tt.want {
				t.Errorf("Murmur3(%q, %#x) = %#08x, want %#08x", tt.data, tt.seed, got, tt.want)
			}
		})
	}
}

func TestMurmur3DoesNotAllocate(t *testing.T) {
	key := []byte("some-key-of-moderate-length")
	if n := testing.AllocsPerRun(100, func() { Murmur3(key, 0) }); n != 0 {
		t.Errorf("Murmur3 allocates %v times per call, want 0", n)
	}
}
