package main

import "slices"

// median returns the median of xs (the mean of the middle two for an even count) and false
// if xs is empty.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// speedup returns base/x, how many times faster x is than base, or nil if either is
// missing or not positive.
func speedup(base, x *float64) *float64 {
	if base == nil || x == nil || *base <= 0 || *x <= 0 {
		return nil
	}
	return ptr(*base / *x)
}

func ptr[T any](v T) *T { return &v }

// kibToMB converts KiB to MiB ("MB" in the report).
func kibToMB(kib int64) float64 { return float64(kib) / 1024 }
