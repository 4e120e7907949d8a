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
		b, last, err := in.take(ctx)
		if err != nil || string(b) != want || last != (want == "two") {
			t.Fatalf("take: %q, last %v, %v; want %q", b, last, err, want)
		}
	}
	if b, last, err := in.take(ctx); b != nil || !last || err != nil {
		t.Fatalf("take after the last block: %q, %v, %v", b, last, err)
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
