package native

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Blocks may arrive before the bundle asks for them (the data and control streams are
// separate); take hands them over in order and says which one is last.
func TestInboxOrderAndLast(t *testing.T) {
	var ib inboxes
	ib.init()
	ib.get("b1").put([]byte("one"), false)
	ib.get("b1").put([]byte("two"), false)
	ib.get("b1").put(nil, true)
	in := ib.get("b1")
	ctx := context.Background()
	for _, want := range []string{"one", "two"} {
		blk, last, err := in.take(ctx)
		b := blk.data
		if err != nil || string(b) != want || last != (want == "two") {
			t.Fatalf("take: %q, last %v, %v; want %q", b, last, err, want)
		}
	}
	if b, last, err := in.take(ctx); b.data != nil || b.timers != nil || !last || err != nil {
		t.Fatalf("take after the last block: %+v, %v, %v", b, last, err)
	}
}

// Timers queue with the data, in arrival order; the last block (timers or data) before
// the input's end says it is last.
func TestInboxTimers(t *testing.T) {
	var ib inboxes
	ib.init()
	in := ib.get("b1")
	in.putTimers("t1", "f", []byte("timers"))
	in.putTimers("t1", "g", nil) // an empty family's end: nothing to fire
	in.put(nil, true)
	b, last, err := in.take(context.Background())
	if err != nil || !last || b.timers == nil || b.timers.transform != "t1" || b.timers.family != "f" || string(b.timers.data) != "timers" {
		t.Fatalf("take: %+v, last %v, %v; want the timers of t1/f", b, last, err)
	}
}

// A lost data stream fails the bundles waiting and those that start later; a bundle
// whose context ends stops waiting.
func TestInboxFailureAndCancel(t *testing.T) {
	var ib inboxes
	ib.init()
	waiting := ib.get("b1")
	done := make(chan error, 1)
	go func() {
		_, _, err := waiting.take(context.Background())
		done <- err
	}()
	lost := errors.New("the data stream ended")
	time.Sleep(10 * time.Millisecond)
	ib.closeAll(lost)
	if err := <-done; err != lost {
		t.Fatalf("waiting take: %v, want %v", err, lost)
	}
	if _, _, err := ib.get("b2").take(context.Background()); err != lost {
		t.Fatalf("take on an inbox made after the loss: %v", err)
	}
	var ib2 inboxes
	ib2.init()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := ib2.get("b3").take(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("take with a cancelled context: %v", err)
	}
}
