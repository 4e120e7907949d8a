package worker

import (
	"math"
	"slices"
	"testing"
)

func parkNow(t *testing.T, p *WorkPool, sub int) (work []string, finished bool, wake <-chan struct{}) {
	t.Helper()
	w, finished, wake := p.Park(sub)
	for _, e := range w {
		work = append(work, string(e))
	}
	return work, finished, wake
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestWorkPoolSharesResidualsAndFinishesWhenAllParked(t *testing.T) {
	p := NewWorkPool(2)
	if n := p.MaySplit(math.MinInt64); n != 0 {
		t.Fatalf("MaySplit with nobody parked = %d, want 0", n)
	}
	work, finished, wake := parkNow(t, p, 1)
	if work != nil || finished || wake == nil {
		t.Fatalf("first park = %v, %v, %v; want to wait", work, finished, wake)
	}
	if n := p.MaySplit(math.MinInt64); n != 1 {
		t.Fatalf("MaySplit with one parked = %d, want 1", n)
	}
	p.Offer([][]byte{[]byte("r1")})
	if !closed(wake) {
		t.Fatal("offering work did not wake the parked subtask")
	}
	if n := p.MaySplit(math.MinInt64); n != 0 {
		t.Fatalf("MaySplit with work on offer = %d, want 0", n)
	}
	if work, finished, _ := parkNow(t, p, 1); !slices.Equal(work, []string{"r1"}) || finished {
		t.Fatalf("parked subtask took %v (finished %v), want [r1]", work, finished)
	}
	// Subtask 1 is busy again: subtask 0 parking alone does not finish the stage.
	if _, finished, _ := parkNow(t, p, 0); finished {
		t.Fatal("stage finished while subtask 1 still runs a residual")
	}
	if _, finished, _ := parkNow(t, p, 1); !finished {
		t.Fatal("stage did not finish with every subtask parked and nothing on offer")
	}
	if _, finished, _ := parkNow(t, p, 0); !finished {
		t.Fatal("a finished stage must stay finished")
	}
}

func TestWorkPoolFairShare(t *testing.T) {
	p := NewWorkPool(3)
	parkNow(t, p, 1)
	parkNow(t, p, 2)
	p.Offer([][]byte{[]byte("a"), []byte("b"), []byte("c")})
	got1, _, _ := parkNow(t, p, 1)
	got2, _, _ := parkNow(t, p, 2)
	if !slices.Equal(got1, []string{"a", "b"}) || !slices.Equal(got2, []string{"c"}) {
		t.Fatalf("shares = %v and %v, want [a b] and [c]", got1, got2)
	}
}

func TestWorkPoolNoSplitBehindAForwardedWatermark(t *testing.T) {
	p := NewWorkPool(2)
	parkNow(t, p, 1)
	p.NoteWatermark(100)
	if n := p.MaySplit(50); n != 0 {
		t.Fatalf("MaySplit behind a forwarded watermark = %d, want 0", n)
	}
	if n := p.MaySplit(100); n != 1 {
		t.Fatalf("MaySplit at the forwarded watermark = %d, want 1", n)
	}
}
