package usermgmt

import (
	"context"
	"errors"
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
