package usermgmt_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

func TestMemoryLimiter(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	l := usermgmt.NewMemoryLimiter(usermgmt.MemoryLimiterOptions{Clock: clock.Now})
	rate := usermgmt.Rate{Limit: 3, Window: 30 * time.Second} // one per 10 s after a burst of 3

	steps := []struct {
		advance   time.Duration
		key       string
		allowed   bool
		remaining int
		retry     time.Duration
	}{
		{0, "a", true, 2, 0},
		{0, "a", true, 1, 0},
		{0, "a", true, 0, 0},
		{0, "a", false, 0, 10 * time.Second},
		{0, "b", true, 2, 0}, // keys are separate
		{4 * time.Second, "a", false, 0, 6 * time.Second},
		{6 * time.Second, "a", true, 0, 0},
		{30 * time.Second, "a", true, 2, 0}, // idle: the full burst is back
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		d, err := l.Allow(ctx, s.key, rate)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != s.allowed || d.Remaining != s.remaining || d.RetryAfter != s.retry || d.Limit != 3 {
			t.Errorf("step %d: %+v, want allowed %v remaining %d retry %v", i, d, s.allowed, s.remaining, s.retry)
		}
	}
	if _, err := l.Allow(ctx, "a", usermgmt.Rate{}); err == nil {
		t.Error("a zero rate was accepted")
	}
}

func TestMemoryLimiterParallel(t *testing.T) {
	l := usermgmt.NewMemoryLimiter(usermgmt.MemoryLimiterOptions{})
	rate := usermgmt.Rate{Limit: 50, Window: time.Hour}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			d, err := l.Allow(context.Background(), "k", rate)
			if err != nil {
				t.Error(err)
			}
			if d.Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 50 {
		t.Fatalf("allowed %d of 200, want 50", allowed.Load())
	}
}

// BenchmarkMemoryDecisionAndFlag is the per-request work of a limited,
// flag-gated route: one in-memory decision and one flag evaluation.
func BenchmarkMemoryDecisionAndFlag(b *testing.B) {
	ctx := context.Background()
	l := usermgmt.NewMemoryLimiter(usermgmt.MemoryLimiterOptions{})
	rate := usermgmt.Rate{Limit: 1 << 30, Window: time.Hour}
	set, err := usermgmt.ParseFlags([]byte(`{"LOGIN": true, "BETA": [{"userRoles": ["admin"]}, {"percentageOfUsers": 0.5}]}`))
	if err != nil {
		b.Fatal(err)
	}
	u := &usermgmt.User{UUID: "00000000-0000-4000-8000-000000000001", Roles: []string{"user"}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Allow(ctx, "rl:global:192.0.2.1", rate); err != nil {
				b.Fatal(err)
			}
			set.Evaluate("BETA", u)
		}
	})
}

func BenchmarkMemoryDecision(b *testing.B) {
	ctx := context.Background()
	l := usermgmt.NewMemoryLimiter(usermgmt.MemoryLimiterOptions{})
	rate := usermgmt.Rate{Limit: 1 << 30, Window: time.Hour}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Allow(ctx, "rl:global:192.0.2.1", rate); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFlagEvaluation(b *testing.B) {
	ctx := context.Background()
	m := newManager(b, openStore(b), nil)
	if _, err := m.UpdateFeatureFlags(ctx, "", usermgmt.FlagChange{Add: usermgmt.FlagSet{
		"BETA": usermgmt.RuleFlag(usermgmt.FlagRule{UserRoles: []string{"admin"}}, usermgmt.FlagRule{PercentageOfUsers: new(0.5)}),
	}}); err != nil {
		b.Fatal(err)
	}
	u := &usermgmt.User{UUID: "00000000-0000-4000-8000-000000000001", Roles: []string{"user"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.EvaluateFlag(ctx, "BETA", u); err != nil {
			b.Fatal(err)
		}
	}
}
