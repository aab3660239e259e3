package httpadapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/adminmail"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// password satisfies the default password policy.
const password = "Passw0rd!x"

const baseURL = "https://users.example.com"

// fakeClock is a controllable Config.Clock: tests move time instead of
// sleeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer collects logs from concurrent requests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a Manager over a real store, served through New.
type env struct {
	t     testing.TB
	m     *usermgmt.Manager
	h     http.Handler
	clock *fakeClock
	logs  *syncBuffer
}

// backend opens a fresh store.
type backend struct {
	name string
	dsn  func(t testing.TB) string
}

var backends = []backend{
	{"sqlite", func(t testing.TB) string { return "sqlite://" + filepath.Join(t.TempDir(), "db.sqlite") }},
	{"postgres", func(t testing.TB) string { return testpg.DSN(t) }},
}

// eachBackend runs fn as a subtest per backend, each with a fresh database.
func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, b.dsn(t), httpadapter.Options{}))
		})
	}
}

// newEnv builds a Manager over the store at dsn and serves it with opts
// (its Logger defaults to a buffer the test can read).
func newEnv(t testing.TB, dsn string, opts httpadapter.Options) *env {
	t.Helper()
	return newEnvAt(t, dsn, baseURL, opts)
}

// testFeatures are the features the harness enables unless a test names
// its own: every feature package whose routes the suite tests.
func testFeatures() []usermgmt.Feature {
	return []usermgmt.Feature{adminmail.New(), dbtools.New(dbtools.Options{})}
}

// httpFeatures are the testFeatures that serve routes, for Routes and
// OpenAPI.
func httpFeatures() []httpadapter.Feature {
	var fs []httpadapter.Feature
	for _, f := range testFeatures() {
		if hf, ok := f.(httpadapter.Feature); ok {
			fs = append(fs, hf)
		}
	}
	return fs
}

// newEnvAt is newEnv with the Manager's BaseURL set to base.
func newEnvAt(t testing.TB, dsn, base string, opts httpadapter.Options) *env {
	t.Helper()
	return newEnvWith(t, dsn, base, opts, testFeatures()...)
}

// newEnvWith is newEnvAt with the features given instead of testFeatures.
func newEnvWith(t testing.TB, dsn, base string, opts httpadapter.Options, fs ...usermgmt.Feature) *env {
	t.Helper()
	ctx := context.Background()
	st, err := anydb.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clock := newFakeClock()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := usermgmt.New(usermgmt.Config{
		Store:        st,
		JWTSecret:    []byte("test-secret-of-at-least-32-bytes!!"),
		BaseURL:      base,
		BcryptCost:   4,
		ContactEmail: "support@example.com",
		DataDir:      t.TempDir(),
		Clock:        clock.Now,
		Logger:       logger,
	}, usermgmt.WithFeature(fs...))
	if err != nil {
		t.Fatalf("usermgmt.New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	if opts.Logger == nil {
		opts.Logger = logger
	}
	return &env{t: t, m: m, h: httpadapter.New(m, opts), clock: clock, logs: logs}
}

// result is a recorded response.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// request describes a request to make; zero fields are left out.
type request struct {
	method, path string
	json         any        // body encoded as JSON
	form         url.Values // body encoded as a urlencoded form
	multipart    url.Values // body encoded as multipart/form-data
	raw          string     // body sent as is, with contentType
	contentType  string
	token        string // bearer access token
	header       map[string]string
}

func (q request) build(t testing.TB) *http.Request {
	t.Helper()
	var body io.Reader
	ctype := q.contentType
	switch {
	case q.json != nil:
		b, err := json.Marshal(q.json)
		if err != nil {
			t.Fatal(err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	case q.form != nil:
		body, ctype = strings.NewReader(q.form.Encode()), "application/x-www-form-urlencoded"
	case q.multipart != nil:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, vs := range q.multipart {
			for _, v := range vs {
				_ = mw.WriteField(k, v)
			}
		}
		_ = mw.Close()
		body, ctype = &buf, mw.FormDataContentType()
	case q.raw != "":
		body = strings.NewReader(q.raw)
	}
	r := httptest.NewRequest(q.method, q.path, body)
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if q.token != "" {
		r.Header.Set("Authorization", "Bearer "+q.token)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	return r
}

// do serves q and records the answer.
func (e *env) do(q request) result {
	e.t.Helper()
	return serve(e.t, e.h, q.build(e.t))
}

// serve serves r with h and records the answer, whose conformance to the
// OpenAPI document h serves is checked when the tests are done
// (recordAnswer, TestMain).
func serve(t testing.TB, h http.Handler, r *http.Request) result {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := result{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	recordAnswer(t, h, r, res)
	return res
}

// decode unmarshals the body into v.
func (r result) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
}

// object returns the body as a JSON object.
func (r result) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// wantStatus fails unless the status is want.
func (r result) wantStatus(t testing.TB, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body %s", r.status, want, r.body)
	}
}

// wantError fails unless r is the JSON error {detail, code} with status and
// code; a 401 must carry WWW-Authenticate: Bearer.
func (r result) wantError(t testing.TB, status int, code string) string {
	t.Helper()
	r.wantStatus(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Detail *string `json:"detail"`
		Code   string  `json:"code"`
	}
	r.decode(t, &body)
	if body.Code != code || body.Detail == nil || *body.Detail == "" {
		t.Fatalf("error = %s, want code %q with a detail", r.body, code)
	}
	if got := r.header.Get("WWW-Authenticate"); (status == http.StatusUnauthorized) != (got == "Bearer") {
		t.Fatalf("status %d with WWW-Authenticate %q", status, got)
	}
	return *body.Detail
}

// tokens is the token JSON.
type tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

func (r result) tokens(t testing.TB) tokens {
	t.Helper()
	r.wantStatus(t, http.StatusOK)
	var tk tokens
	r.decode(t, &tk)
	if tk.AccessToken == "" || tk.RefreshToken == "" || tk.TokenType != "bearer" || tk.ExpiresIn <= 0 {
		t.Fatalf("bad tokens %s", r.body)
	}
	return tk
}

// account is a user the test made, with a live access token.
type account struct {
	uuid, username, email string
	tokens
}

// register signs a user up over HTTP.
func (e *env) register(username string) account {
	e.t.Helper()
	email := username + "@example.com"
	tk := e.do(request{method: "POST", path: "/api/auth/register", json: map[string]string{
		"username": username, "email": email, "password": password, "confirm_password": password,
	}}).tokens(e.t)
	return account{uuid: e.whoami(tk.AccessToken), username: username, email: email, tokens: tk}
}

// user creates a user with roles through the trusted API and logs it in
// over HTTP.
func (e *env) user(username string, roles ...string) account {
	e.t.Helper()
	email := username + "@example.com"
	u, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: username, Email: email, Password: password, Roles: roles})
	if err != nil {
		e.t.Fatalf("CreateUser %s: %v", username, err)
	}
	return account{uuid: u.UUID, username: username, email: email, tokens: e.login(username)}
}

// login logs a user in over HTTP.
func (e *env) login(username string) tokens {
	e.t.Helper()
	return e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{
		"grant_type": {"password"}, "username": {username}, "password": {password},
	}}).tokens(e.t)
}

// whoami returns the UUID behind an access token.
func (e *env) whoami(token string) string {
	e.t.Helper()
	r := e.do(request{method: "GET", path: "/api/auth/token/validate", token: token})
	r.wantStatus(e.t, http.StatusOK)
	uuid, ok := strings.CutPrefix(string(r.body), "ValidToken | ")
	if !ok {
		e.t.Fatalf("validate = %s", r.body)
	}
	return uuid
}

// httpadapterOptions returns Options with a body limit (0: the default).
func httpadapterOptions(maxBody int64) httpadapter.Options {
	return httpadapter.Options{MaxBodyBytes: maxBody}
}
