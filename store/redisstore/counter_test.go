package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/usermgmt/usermgmt/captcha"
	"github.com/usermgmt/usermgmt/internal/testredis"
	"github.com/usermgmt/usermgmt/store/redisstore"
)

var _ captcha.FailureCounter = (*redisstore.Counter)(nil)

func TestCounter(t *testing.T) {
	ctx := context.Background()
	c, prefix := testredis.Client(t)
	l := redisstore.NewLimiter(c, redisstore.LimiterOptions{Prefix: prefix, Logger: quiet})
	one, other := l.Counter(time.Hour), l.Counter(time.Hour) // two instances
	for range 3 {
		if err := one.AddFailure(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := other.Failures(ctx, "k"); err != nil || n != 3 {
		t.Fatalf("Failures seen by another instance = %d, %v; want 3", n, err)
	}
	if n, err := one.Failures(ctx, "unknown"); err != nil || n != 0 {
		t.Fatalf("Failures of an unknown key = %d, %v", n, err)
	}
	ttl, err := c.PTTL(ctx, prefix+"k").Result()
	if err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("PTTL = %v, %v; want the window", ttl, err)
	}
	if err := other.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n, _ := one.Failures(ctx, "k"); n != 0 {
		t.Fatalf("after Reset: %d", n)
	}
	// A short window forgets.
	short := l.Counter(100 * time.Millisecond)
	_ = short.AddFailure(ctx, "short")
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := short.Failures(ctx, "short")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the short window's key never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCounterRedisDown(t *testing.T) {
	ctx := context.Background()
	srv := testredis.StartServer(t)
	o, err := redisstore.ClientOptions(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	l := redisstore.NewLimiter(c, redisstore.LimiterOptions{Logger: quiet, Timeout: 200 * time.Millisecond})
	counter := l.Counter(time.Minute)
	if err := counter.AddFailure(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	start := time.Now()
	if _, err := counter.Failures(ctx, "k"); err == nil {
		t.Fatal("Failures answered with Redis down")
	}
	// The breaker is open now: the next calls fail at once.
	if err := counter.AddFailure(ctx, "k"); err == nil || !l.Degraded() {
		t.Fatalf("AddFailure with the breaker open: %v (degraded %v)", err, l.Degraded())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("failing took %v", d)
	}
}
