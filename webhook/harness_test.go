package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store/anydb"
	"github.com/usermgmt/usermgmt/webhook"
	"github.com/usermgmt/usermgmt/webhook/verify"
)

// databases are the stores every outbox test runs on.
var databases = []struct {
	name string
	dsn  func(t testing.TB) string
}{
	{"sqlite", func(t testing.TB) string { return "sqlite://" + t.TempDir() + "/hooks.db" }},
	{"postgres", func(t testing.TB) string { return testpg.DSN(t) }},
}

// The secrets: the sender signs with both (a rotation), the receiver
// knows only the new one.
const (
	oldSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	newSecret = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// receiver is a webhook endpoint that verifies every signature and
// counts the events by webhook-id.
type receiver struct {
	t      testing.TB
	srv    *httptest.Server
	v      *verify.Verifier
	mu     sync.Mutex
	counts map[string]int
	events []webhook.Event
	bad    int
	// now is the receiver's clock (default time.Now).
	now func() time.Time
	// answer, when set, answers instead of 204 (after the check).
	answer func(w http.ResponseWriter, r *http.Request) bool
}

func newReceiver(t testing.TB) *receiver {
	v, err := verify.New(newSecret)
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{t: t, v: v, counts: map[string]int{}, now: time.Now}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	rc.mu.Lock()
	answer := rc.answer
	if err != nil || rc.v.Verify(r.Header, body, rc.now()) != nil {
		rc.bad++
		rc.mu.Unlock()
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	var ev webhook.Event
	if json.Unmarshal(body, &ev) != nil {
		rc.bad++
		rc.mu.Unlock()
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if answer == nil {
		rc.counts[r.Header.Get(verify.HeaderID)]++
		rc.events = append(rc.events, ev)
	}
	rc.mu.Unlock()
	if answer != nil && answer(w, r) {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) setAnswer(f func(w http.ResponseWriter, r *http.Request) bool) {
	rc.mu.Lock()
	rc.answer = f
	rc.mu.Unlock()
}

// snapshot returns the counts by id, the events and the bad requests.
func (rc *receiver) snapshot() (map[string]int, []webhook.Event, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	c := make(map[string]int, len(rc.counts))
	for k, v := range rc.counts {
		c[k] = v
	}
	return c, append([]webhook.Event(nil), rc.events...), rc.bad
}

// waitEvents waits until the receiver has n distinct events.
func (rc *receiver) waitEvents(n int) {
	rc.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, _, _ := rc.snapshot(); len(c) >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	c, evs, bad := rc.snapshot()
	rc.t.Fatalf("the receiver has %d events (%d bad requests), want %d: %v", len(c), bad, n, evs)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     testing.TB
	m     *usermgmt.Manager
	hooks *webhook.Hooks
	h     http.Handler
}

// newEnv opens dsn and returns a Manager with the feature configured by
// cfg (its defaults for tests filled in).
func newEnv(t testing.TB, dsn string, cfg webhook.Config, opts ...usermgmt.Option) *env {
	t.Helper()
	st, err := anydb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if cfg.Secrets == nil {
		cfg.Secrets = []string{oldSecret, newSecret}
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	hooks, err := webhook.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mcfg := usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BcryptCost: 4, Logger: quiet}
	if cfg.Clock != nil {
		mcfg.Clock = cfg.Clock
	}
	m, err := usermgmt.New(mcfg, append([]usermgmt.Option{usermgmt.WithFeature(hooks)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &env{t: t, m: m, hooks: hooks, h: httpadapter.New(m, httpadapter.Options{Prefix: "/api", Logger: quiet})}
}

// run starts the worker until the test ends.
func (e *env) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.hooks.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

func (e *env) user(name string, roles ...string) *usermgmt.User {
	e.t.Helper()
	u, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: name, Email: name + "@example.com", Password: "Password-123!", Roles: roles})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// token opens a session for u and returns its access token.
func (e *env) token(u *usermgmt.User) string {
	e.t.Helper()
	tok, err := e.m.OpenSession(context.Background(), u)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.AccessToken
}

// do sends an authenticated request to the handler.
func (e *env) do(method, path, token string) (int, []byte) {
	e.t.Helper()
	r := httptest.NewRequest(method, path, http.NoBody)
	r.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	return rec.Code, rec.Body.Bytes()
}
