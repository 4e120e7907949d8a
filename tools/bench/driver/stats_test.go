package main

import (
	"slices"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
		ok   bool
	}{
		{nil, 0, false},
		{[]float64{4}, 4, true},
		{[]float64{3, 1, 2}, 2, true},
		{[]float64{4, 1, 3, 2}, 2.5, true},
		{[]float64{5, 5, 1, 9, 7}, 5, true},
	} {
		in := slices.Clone(tc.in)
		got, ok := median(in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("median(%v) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("median reordered its input: %v", in)
		}
	}
}

func TestSpeedup(t *testing.T) {
	if got := speedup(ptr(6.0), ptr(2.0)); got == nil || *got != 3 {
		t.Errorf("speedup(6, 2) = %v, want 3", got)
	}
	for _, tc := range [][2]*float64{{nil, ptr(1.0)}, {ptr(1.0), nil}, {ptr(0.0), ptr(1.0)}, {ptr(1.0), ptr(0.0)}} {
		if got := speedup(tc[0], tc[1]); got != nil {
			t.Errorf("speedup(%v, %v) = %v, want nil", tc[0], tc[1], *got)
		}
	}
}

func TestHumanCount(t *testing.T) {
	for n, want := range map[int64]string{
		2_000_000: "2M", 1_500_000: "1.5M", 200_000: "200K", 50_000: "50K", 999: "999", 1_234_567: "1234567", 1_234_500: "1234.5K",
	} {
		if got := humanCount(n); got != want {
			t.Errorf("humanCount(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestHumanRate(t *testing.T) {
	for x, want := range map[float64]string{
		91234: "91.2K", 1_234_567: "1.23M", 512.4: "512", 7.5: "7.50", 123_456: "123K",
	} {
		if got := humanRate(x); got != want {
			t.Errorf("humanRate(%v) = %q, want %q", x, got, want)
		}
	}
}
