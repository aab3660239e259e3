package httpadapter_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// Issue 19 item 2: GET /ready answers 200 {"status":"ready"} when the
// database answers, beside /ping (liveness), and no rate limit applies to
// it, not even the global one that limits /ping.
func TestReady(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{RateLimit: httpadapter.RateLimitOptions{
		Enabled: true, Global: usermgmt.Rate{Limit: 2, Window: time.Hour},
	}})
	for i := range 5 {
		r := e.do(request{method: "GET", path: "/ready"})
		r.wantStatus(t, http.StatusOK)
		if string(r.body) != `{"status":"ready"}` || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("ready %d = %s (%s)", i, r.body, r.header.Get("Content-Type"))
		}
		if r.header.Get("RateLimit-Limit") != "" {
			t.Fatalf("ready %d counted by the global limit: %v", i, r.header)
		}
	}
	if r := e.do(request{method: "HEAD", path: "/ready"}); r.status != http.StatusOK {
		t.Fatalf("HEAD /ready = %s", r)
	}
	// /ping keeps its global limit.
	e.do(request{method: "GET", path: "/ping"}).wantStatus(t, http.StatusOK)
	e.do(request{method: "GET", path: "/ping"}).wantStatus(t, http.StatusOK)
	e.do(request{method: "GET", path: "/ping"}).wantError(t, http.StatusTooManyRequests, "rate_limited")
	// Another method on /ready is still limited and still 405.
	e.do(request{method: "POST", path: "/ready"}).wantError(t, http.StatusTooManyRequests, "rate_limited")
}

// pingLimiter is a Limiter that implements usermgmt.Pinger with ping.
type pingLimiter struct {
	usermgmt.Limiter
	ping func(ctx context.Context) error
}

func (l pingLimiter) Ping(ctx context.Context) error { return l.ping(ctx) }

// TestReadyNotReady: a part that fails, or hangs past the timeout, makes
// /ready answer 503 not_ready naming it, within the timeout, with the cause
// in the log only.
func TestReadyNotReady(t *testing.T) {
	tests := []struct {
		name string
		ping func(ctx context.Context) error
	}{
		{"fails", func(context.Context) error { return errors.New("secret cause: connection refused") }},
		{"hangs", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		{"ignores its context", func(context.Context) error { time.Sleep(3 * time.Second); return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := anydb.Open(ctx, backends[0].dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			logs := &syncBuffer{}
			lim := pingLimiter{Limiter: usermgmt.NewMemoryLimiter(usermgmt.MemoryLimiterOptions{}), ping: tt.ping}
			m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BcryptCost: 4,
				Logger: slog.New(slog.NewTextHandler(logs, nil))}, usermgmt.WithLimiter(lim))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			h := httpadapter.New(m, httpadapter.Options{RateLimit: httpadapter.RateLimitOptions{Enabled: true}})
			start := time.Now()
			r := serve(t, h, httptest.NewRequest(http.MethodGet, "/ready", nil))
			took := time.Since(start)
			r.wantError(t, http.StatusServiceUnavailable, "not_ready")
			if want := `{"status":"not_ready","detail":"Not ready: rate_limiter did not answer.","code":"not_ready","failed":["rate_limiter"]}`; string(r.body) != want {
				t.Errorf("body = %s, want %s", r.body, want)
			}
			if r.header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if took > 2*usermgmt.DefaultReadyTimeout { // the timeout, and room for a loaded machine
				t.Errorf("took %v", took)
			}
			if l := logs.String(); !strings.Contains(l, "not ready") || !strings.Contains(l, "part=rate_limiter") {
				t.Errorf("log: %s", logs)
			}
		})
	}
}
