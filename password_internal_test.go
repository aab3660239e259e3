package usermgmt

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

// With every slot taken, a request waits for one, and gives up when its
// context ends; once a slot frees, it proceeds.
func TestBcryptHasherWaitsForASlot(t *testing.T) {
	h := NewBcryptHasher(4, 1)
	hash, err := h.Hash(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	h.sem <- struct{}{} // take the only slot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := h.Compare(ctx, hash, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Compare with no free slot = %v, want DeadlineExceeded", err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Compare(context.Background(), hash, "x") }()
	select {
	case err := <-done:
		t.Fatalf("Compare did not wait for the slot: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	<-h.sem // free it
	if err := <-done; err != nil {
		t.Fatalf("Compare after the slot freed: %v", err)
	}
}

// By default hashing leaves one scheduler slot free for other requests.
func TestDefaultHashConcurrencyLeavesASlot(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for procs, want := range map[int]int{1: 1, 2: 1, 3: 2, 8: 7} {
		runtime.GOMAXPROCS(procs)
		if got := (Config{}).withDefaults().MaxConcurrentHashes; got != want {
			t.Errorf("GOMAXPROCS %d: MaxConcurrentHashes = %d, want %d", procs, got, want)
		}
	}
}
