package apikey_test

import (
	"bytes"
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
	"github.com/usermgmt/usermgmt/apikey"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// databases are the stores every database test runs on: a DSN per test.
var databases = []struct {
	name string
	dsn  func(t testing.TB) string
}{
	{"sqlite", func(t testing.TB) string { return "sqlite://" + t.TempDir() + "/keys.db" }},
	{"postgres", func(t testing.TB) string { return testpg.DSN(t) }},
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

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	t     testing.TB
	m     *usermgmt.Manager
	keys  *apikey.Keys
	h     http.Handler
	clock *clock
}

// newEnv returns a Manager with the feature on dsn (an in-memory SQLite
// when empty), a fake clock when fake, and its handler under /api.
func newEnv(t testing.TB, dsn string, fake bool, cfg apikey.Config) *env {
	t.Helper()
	return newEnvWith(t, dsn, fake, cfg)
}

// newEnvWith is newEnv with other features enabled beside the API keys.
func newEnvWith(t testing.TB, dsn string, fake bool, cfg apikey.Config, others ...usermgmt.Feature) *env {
	t.Helper()
	if dsn == "" {
		dsn = "sqlite://:memory:"
	}
	st, err := anydb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := &clock{t: time.Now()}
	now := time.Now
	if fake {
		now = c.Now
	}
	keys := apikey.New(cfg)
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"),
		BcryptCost: 4, Clock: now, Logger: quiet}, usermgmt.WithFeature(append([]usermgmt.Feature{keys}, others...)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &env{t: t, m: m, keys: keys, h: httpadapter.New(m, httpadapter.Options{Prefix: "/api", Logger: quiet}), clock: c}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) object(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("%d %s: %v", a.status, a.body, err)
	}
	return v
}

// code returns the error code of the answer.
func (a answer) code() string {
	var v struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(a.body, &v)
	return v.Code
}

// do sends a request with header: value set (an Authorization or
// X-API-Key), body as JSON unless it is a string.
func (e *env) do(method, path, header, value string, body any) answer {
	e.t.Helper()
	var rd io.Reader = http.NoBody
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if header != "" {
		r.Header.Set(header, value)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	return answer{rec.Code, rec.Header(), rec.Body.Bytes()}
}

// bearer sends a request with "Authorization: Bearer token".
func (e *env) bearer(method, path, token string, body any) answer {
	e.t.Helper()
	return e.do(method, path, "Authorization", "Bearer "+token, body)
}

// user creates an account and returns it with a session's access token.
func (e *env) user(name string, roles ...string) (*usermgmt.User, string) {
	e.t.Helper()
	u, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: name, Email: name + "@example.com", Password: "Password-123!", Roles: roles})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.m.OpenSession(context.Background(), u)
	if err != nil {
		e.t.Fatal(err)
	}
	return u, tok.AccessToken
}

// create creates a key over HTTP with the session token and returns the
// answer's fields.
func (e *env) create(token string, body any) (key, id string) {
	e.t.Helper()
	a := e.bearer(http.MethodPost, "/api/user/me/api-keys", token, body)
	if a.status != http.StatusCreated {
		e.t.Fatalf("create: %d %s", a.status, a.body)
	}
	o := a.object(e.t)
	key, _ = o["key"].(string)
	id, _ = o["id"].(string)
	return key, id
}

// audits returns the actions audited about subject, oldest first.
func (e *env) audits(subject string, actions ...string) []*usermgmt.AuditEntry {
	e.t.Helper()
	es, err := e.m.Audit(context.Background(), usermgmt.AuditQuery{SubjectUUID: subject, Actions: actions, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}
