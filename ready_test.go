package usermgmt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store"
)

// pingStore is a store.DB whose Ping answers ping.
type pingStore struct {
	*store.DB
	ping func(ctx context.Context) error
}

func (s pingStore) Ping(ctx context.Context) error { return s.ping(ctx) }

// pingLimiter is a Limiter whose Ping answers ping.
type pingLimiter struct {
	usermgmt.Limiter
	ping func(ctx context.Context) error
}

func (l pingLimiter) Ping(ctx context.Context) error { return l.ping(ctx) }

// TestReady (issue 19 item 2): Manager.Ready checks the parts that
// implement Pinger, each within the timeout, and names the failed ones;
// the in-memory limiter is not checked.
func TestReady(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	m := newManager(t, st, newFakeClock())
	if got := m.Ready(ctx, 0); len(got) != 1 || got[usermgmt.ReadyDatabase] != nil {
		t.Fatalf("Ready over a store.DB and the memory limiter = %v", got)
	}

	down := errors.New("connection refused")
	blocks := make(chan struct{})
	defer close(blocks)
	var seen time.Duration
	m = newManager(t, pingStore{DB: st, ping: func(ctx context.Context) error {
		dl, _ := ctx.Deadline()
		seen = time.Until(dl)
		return down
	}}, newFakeClock(), usermgmt.WithLimiter(pingLimiter{
		Limiter: usermgmt.NewMemoryLimiter(usermgmt.MemoryLimiterOptions{}),
		ping:    func(context.Context) error { <-blocks; return nil }, // ignores its context
	}))
	start := time.Now()
	got := m.Ready(ctx, 200*time.Millisecond)
	if took := time.Since(start); took > time.Second {
		t.Errorf("Ready took %v with a limiter that never answers", took)
	}
	if !errors.Is(got[usermgmt.ReadyDatabase], down) || !errors.Is(got[usermgmt.ReadyLimiter], context.DeadlineExceeded) || len(got) != 2 {
		t.Errorf("Ready = %v", got)
	}
	if seen <= 0 || seen > 200*time.Millisecond {
		t.Errorf("the store's Ping had %v left of its deadline", seen)
	}
}
