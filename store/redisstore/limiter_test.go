package redisstore_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/internal/testredis"
	"github.com/usermgmt/usermgmt/store/anydb"
	"github.com/usermgmt/usermgmt/store/redisstore"
)

var quiet = slog.New(slog.DiscardHandler)

func TestLimiterDecisions(t *testing.T) {
	ctx := context.Background()
	c, prefix := testredis.Client(t)
	l := redisstore.NewLimiter(c, redisstore.LimiterOptions{Prefix: prefix, Logger: quiet})
	rate := usermgmt.Rate{Limit: 3, Window: time.Hour} // then one per 20 minutes
	for i := range 3 {
		d, err := l.Allow(ctx, "k", rate)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Allowed || d.Remaining != 2-i || d.Limit != 3 {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	d, err := l.Allow(ctx, "k", rate)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed || d.RetryAfter <= 19*time.Minute || d.RetryAfter > 20*time.Minute || d.Reset > time.Hour || d.Reset < 59*time.Minute {
		t.Fatalf("refused: %+v", d)
	}
	// Other keys are separate; the key expires when its budget is whole
	// again, and a refusal does not extend it.
	if d, _ := l.Allow(ctx, "other", rate); !d.Allowed {
		t.Fatalf("other key refused: %+v", d)
	}
	ttl, err := c.PTTL(ctx, prefix+"k").Result()
	if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("PTTL = %v, %v", ttl, err)
	}
	// A short window refills.
	short := usermgmt.Rate{Limit: 1, Window: 200 * time.Millisecond}
	if d, _ := l.Allow(ctx, "short", short); !d.Allowed {
		t.Fatal("first short refused")
	}
	d, _ = l.Allow(ctx, "short", short)
	if d.Allowed {
		t.Fatal("second short allowed")
	}
	time.Sleep(d.RetryAfter + 10*time.Millisecond)
	if d, _ := l.Allow(ctx, "short", short); !d.Allowed {
		t.Fatalf("short not refilled: %+v", d)
	}
	if _, err := l.Allow(ctx, "k", usermgmt.Rate{}); err == nil {
		t.Fatal("zero rate accepted")
	}
}

// Two limiters (two instances) on one Redis let exactly Limit through
// together, however the requests interleave.
func TestLimiterSharedAndAtomic(t *testing.T) {
	ctx := context.Background()
	c1, prefix := testredis.Client(t)
	c2 := redis.NewClient(&redis.Options{Addr: c1.Options().Addr, DB: c1.Options().DB})
	t.Cleanup(func() { c2.Close() })
	// The 200 decisions start at once and queue for the clients' pooled
	// connections: on a loaded machine (the race detector, other tests)
	// that wait passes the default 100 ms decision timeout, which this
	// test does not measure; it checks the count.
	opts := redisstore.LimiterOptions{Prefix: prefix, Timeout: 10 * time.Second}
	limiters := []*redisstore.Limiter{
		redisstore.NewLimiter(c1, opts),
		redisstore.NewLimiter(c2, opts),
	}
	rate := usermgmt.Rate{Limit: 50, Window: time.Hour}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			d, err := limiters[i%2].Allow(ctx, "shared", rate)
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

// deadClient points at a port nothing listens on.
func deadClient(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLimiterRedisDown(t *testing.T) {
	ctx := context.Background()
	rate := usermgmt.Rate{Limit: 2, Window: time.Hour}

	closed := redisstore.NewLimiter(deadClient(t), redisstore.LimiterOptions{Logger: quiet})
	if _, err := closed.Allow(ctx, "k", rate); err == nil {
		t.Fatal("fail-closed limiter decided without Redis")
	}

	open := redisstore.NewLimiter(deadClient(t), redisstore.LimiterOptions{OnError: redisstore.FailOpen, Logger: quiet})
	for range 5 {
		if d, err := open.Allow(ctx, "k", rate); err != nil || !d.Allowed {
			t.Fatalf("fail-open: %+v, %v", d, err)
		}
	}

	fallback := redisstore.NewLimiter(deadClient(t), redisstore.LimiterOptions{OnError: redisstore.FailToFallback, Logger: quiet})
	var got []bool
	for range 3 {
		d, err := fallback.Allow(ctx, "k", rate)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.Allowed)
	}
	if !got[0] || !got[1] || got[2] {
		t.Fatalf("fallback decisions %v, want [true true false]", got)
	}

	// Over HTTP, a fail-closed limiter that cannot decide answers 503.
	st, err := anydb.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("0123456789abcdef0123456789abcdef"), BcryptCost: 4, Logger: quiet},
		usermgmt.WithLimiter(closed))
	if err != nil {
		t.Fatal(err)
	}
	h := httpadapter.New(m, httpadapter.Options{RateLimit: httpadapter.RateLimitOptions{Enabled: true}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/ping", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("ping with Redis down: %d %s", rec.Code, rec.Body)
	}
}

func BenchmarkRedisDecision(b *testing.B) {
	ctx := context.Background()
	c, prefix := testredis.Client(b)
	l := redisstore.NewLimiter(c, redisstore.LimiterOptions{Prefix: prefix})
	rate := usermgmt.Rate{Limit: 1 << 30, Window: time.Hour}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Allow(ctx, "bench", rate); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedisDecisionParallel keeps 16 decisions per core in flight,
// as concurrent requests do: ns/op is then the inverse of throughput.
func BenchmarkRedisDecisionParallel(b *testing.B) {
	ctx := context.Background()
	c, prefix := testredis.Client(b)
	l := redisstore.NewLimiter(c, redisstore.LimiterOptions{Prefix: prefix})
	rate := usermgmt.Rate{Limit: 1 << 30, Window: time.Hour}
	b.ReportAllocs()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Allow(ctx, "bench", rate); err != nil {
				b.Fatal(err)
			}
		}
	})
}
