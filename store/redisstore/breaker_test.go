package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/internal/testredis"
	"github.com/usermgmt/usermgmt/store/redisstore"
)

// switchProxy forwards TCP connections to a real Redis until stopped:
// stopping it closes the listener and every connection, as a Redis that
// goes away does; starting it again listens on the same address.
type switchProxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	p := &switchProxy{t: t, target: target}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *switchProxy) start() {
	p.t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // the port of a closed listener can take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *switchProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Redis goes away under traffic: after the first failure the decisions go
// to the failure mode at once, the log has one line for the outage and one
// for the recovery, and the limiter decides on Redis again without help.
func TestLimiterBreaker(t *testing.T) {
	ctx := context.Background()
	real, prefix := testredis.Client(t)
	p := newSwitchProxy(t, real.Options().Addr)
	o, err := redisstore.ClientOptions("redis://" + p.addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	var logs syncBuffer
	var changes []bool
	var chMu sync.Mutex
	l := redisstore.NewLimiter(c, redisstore.LimiterOptions{
		Prefix: prefix, OnError: redisstore.FailToFallback, Backoff: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnBreakerChange: func(open bool) {
			chMu.Lock()
			changes = append(changes, open)
			chMu.Unlock()
		},
	})
	rate := usermgmt.Rate{Limit: 1 << 20, Window: time.Hour}
	traffic := func(n int) (slowest time.Duration) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range 4 {
			wg.Go(func() {
				for range n {
					start := time.Now()
					d, err := l.Allow(ctx, "k", rate)
					el := time.Since(start)
					if err != nil || !d.Allowed {
						t.Errorf("decision: %+v, %v", d, err)
					}
					mu.Lock()
					slowest = max(slowest, el)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return slowest
	}
	traffic(20)
	if l.Degraded() || logs.String() != "" {
		t.Fatalf("degraded before the outage; log %q", logs.String())
	}

	p.stop()
	traffic(5) // the decisions in flight when Redis went away
	if !l.Degraded() {
		t.Fatal("breaker closed with Redis down")
	}
	if slowest := traffic(200); slowest > 50*time.Millisecond {
		t.Errorf("slowest decision with the breaker open took %v", slowest)
	}
	time.Sleep(300 * time.Millisecond) // probes fail meanwhile
	traffic(20)
	if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "does not answer") {
		t.Fatalf("log during the outage:\n%s", logs.String())
	}

	p.start()
	deadline := time.Now().Add(5 * time.Second)
	for l.Degraded() && time.Now().Before(deadline) {
		traffic(1)
		time.Sleep(20 * time.Millisecond)
	}
	if l.Degraded() {
		t.Fatal("breaker still open 5 s after Redis came back")
	}
	traffic(20)
	if n := strings.Count(logs.String(), "\n"); n != 2 || !strings.Contains(logs.String(), "answers again") {
		t.Fatalf("log after the outage:\n%s", logs.String())
	}
	chMu.Lock()
	defer chMu.Unlock()
	if len(changes) != 2 || !changes[0] || changes[1] {
		t.Fatalf("OnBreakerChange calls %v, want [true false]", changes)
	}
}

// A fail-closed limiter with its breaker open refuses at once with an error
// that says why; a caller's own cancellation neither opens the breaker
// nor is taken for an outage.
func TestLimiterBreakerClosedModeAndCancel(t *testing.T) {
	real, prefix := testredis.Client(t)
	l := redisstore.NewLimiter(real, redisstore.LimiterOptions{Prefix: prefix, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rate := usermgmt.Rate{Limit: 5, Window: time.Hour}
	if _, err := l.Allow(ctx, "k", rate); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled decision: %v", err)
	}
	if l.Degraded() {
		t.Fatal("a cancelled request opened the breaker")
	}

	dead := redisstore.NewLimiter(deadClient(t), redisstore.LimiterOptions{Logger: quiet, Backoff: time.Hour})
	if _, err := dead.Allow(context.Background(), "k", rate); err == nil {
		t.Fatal("fail-closed limiter decided without Redis")
	}
	start := time.Now()
	for range 100 {
		if _, err := dead.Allow(context.Background(), "k", rate); err == nil || !strings.Contains(err.Error(), "circuit breaker open") {
			t.Fatalf("open breaker: %v", err)
		}
	}
	if el := time.Since(start); el > 50*time.Millisecond {
		t.Fatalf("100 refusals with the breaker open took %v", el)
	}
}

// go-redis's own messages arrive as slog warnings tagged component=go-redis.
func TestLogger(t *testing.T) {
	var buf syncBuffer
	l := redisstore.NewLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	l.Printf(context.Background(), "redis: %s:%d: connection pool: failed to dial", "127.0.0.1", 6379)
	got := buf.String()
	if !strings.Contains(got, "level=WARN") || !strings.Contains(got, `msg="127.0.0.1:6379: connection pool: failed to dial"`) || !strings.Contains(got, "component=go-redis") {
		t.Fatalf("log line %q", got)
	}
}
