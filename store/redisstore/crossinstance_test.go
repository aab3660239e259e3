package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/internal/testredis"
	"github.com/usermgmt/usermgmt/store/anydb"
	"github.com/usermgmt/usermgmt/store/redisstore"
)

// instance is one service process: its own store handle, Redis client,
// Manager and handler, sharing the database and Redis with the others.
type instance struct {
	m *usermgmt.Manager
	h http.Handler
}

func newInstance(t *testing.T, dsn, redisAddr, prefix string) instance {
	t.Helper()
	ctx := context.Background()
	st, err := anydb.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { c.Close() })
	m, err := usermgmt.New(usermgmt.Config{
		Store: st, JWTSecret: []byte("0123456789abcdef0123456789abcdef"), BcryptCost: 4, Logger: quiet,
		FlagPollInterval: 200 * time.Millisecond,
	}, usermgmt.WithLimiter(redisstore.NewLimiter(c, redisstore.LimiterOptions{Prefix: prefix, Logger: quiet})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	h := httpadapter.New(m, httpadapter.Options{
		FeatureFlags: true,
		Logger:       quiet,
		RateLimit:    httpadapter.RateLimitOptions{Enabled: true, Global: usermgmt.Rate{Limit: 40, Window: time.Hour}},
	})
	return instance{m: m, h: h}
}

func (in instance) do(method, path, token, body string) *httptest.ResponseRecorder {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	in.h.ServeHTTP(rec, r)
	return rec
}

// waitFor polls until ping answers want on in, and returns how long it took.
func waitFor(t *testing.T, in instance, want int) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		if in.do("GET", "/ping", "", "").Code == want {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the other instance did not answer %d within 2 s", want)
	return 0
}

// Two instances over one PostgreSQL and one Redis enforce one combined
// limit and see each other's flag changes within 2 s.
func TestTwoInstances(t *testing.T) {
	dsn := testpg.DSN(t)
	c, prefix := testredis.Client(t)
	addr := c.Options().Addr
	a := newInstance(t, dsn, addr, prefix)
	b := newInstance(t, dsn, addr, prefix)
	ctx := context.Background()

	if _, err := a.m.CreateUser(ctx, usermgmt.NewUser{Username: "admin_user", Email: "admin@example.com", Password: "Passw0rd!x", Roles: []string{usermgmt.RoleAdmin}}); err != nil {
		t.Fatal(err)
	}
	tok, err := b.m.Login(ctx, "admin_user", "Passw0rd!x")
	if err != nil {
		t.Fatal(err)
	}

	// Flags: changed through A, applied by B.
	if rec := a.do("PATCH", "/api/admin/feature_flags", tok.AccessToken, `{"add": {"_PING": false}}`); rec.Code != 200 {
		t.Fatalf("PATCH on A: %d %s", rec.Code, rec.Body)
	}
	if a.do("GET", "/ping", "", "").Code != 403 {
		t.Fatal("A does not apply its own change at once")
	}
	t.Logf("B applied the change after %v", waitFor(t, b, 403))
	if rec := b.do("PATCH", "/api/admin/feature_flags", tok.AccessToken, `{"remove": ["_PING"]}`); rec.Code != 200 {
		t.Fatalf("PATCH on B: %d %s", rec.Code, rec.Body)
	}
	t.Logf("A applied the removal after %v", waitFor(t, a, 200))

	// Rate limit: one budget of 40 for the client on both instances. The
	// requests above used part of it; alternate until refused.
	served := 0
	for i := 0; ; i++ {
		in := []instance{a, b}[i%2]
		rec := in.do("GET", "/ping", "", "")
		if rec.Code == http.StatusTooManyRequests {
			break
		}
		if rec.Code != 200 {
			t.Fatalf("ping: %d %s", rec.Code, rec.Body)
		}
		served++
		if served > 40 {
			t.Fatal("more than 40 requests served: the limit is not shared")
		}
	}
	// Both refuse now.
	for _, in := range []instance{a, b} {
		if rec := in.do("GET", "/version", "", ""); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("after the budget: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
		}
	}
}
