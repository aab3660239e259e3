package passkey_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/passkey"
	"github.com/usermgmt/usermgmt/passkey/internal/softauthn"
	"github.com/usermgmt/usermgmt/store/anydb"
)

const origin = "https://app.example.com"

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
	h     http.Handler
	clock *clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvSecret(t, "test-secret-of-at-least-32-bytes!!")
}

// newEnvSecret is newEnv with a JWT secret of its own, as another
// instance of the service (its own process, its own randomness) has.
func newEnvSecret(t testing.TB, secret string) *env {
	t.Helper()
	return newEnvConfig(t, secret, nil)
}

// newEnvConfig is newEnvSecret whose Config mc, when not nil, changes.
func newEnvConfig(t testing.TB, secret string, mc func(*usermgmt.Config)) *env {
	t.Helper()
	st, err := anydb.Open(context.Background(), "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := &clock{t: time.Now()}
	cfg := usermgmt.Config{Store: st, JWTSecret: []byte(secret), BaseURL: origin,
		BcryptCost: 4, DataDir: t.TempDir(), Clock: c.Now}
	if mc != nil {
		mc(&cfg)
	}
	m, err := usermgmt.New(cfg, usermgmt.WithFeature(passkey.New(passkey.Config{})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &env{t: t, m: m, h: httpadapter.New(m, httpadapter.Options{Prefix: "/api"}), clock: c}
}

type answer struct {
	status int
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

func (e *env) do(method, path, token string, body any) answer {
	e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	return answer{rec.Code, rec.Body.Bytes()}
}

func (e *env) user(name, password string, roles ...string) (*usermgmt.User, string) {
	e.t.Helper()
	u, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: name, Email: name + "@example.com", Password: password, Roles: roles})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.m.OpenSession(context.Background(), u)
	if err != nil {
		e.t.Fatal(err)
	}
	return u, tok.AccessToken
}

// begin posts a begin route and returns the options and the ceremony.
func (e *env) begin(path, token string, body any) (json.RawMessage, string) {
	e.t.Helper()
	a := e.do(http.MethodPost, path, token, body)
	if a.status != http.StatusOK {
		e.t.Fatalf("%s: %d %s", path, a.status, a.body)
	}
	var b struct {
		PublicKey json.RawMessage `json:"publicKey"`
		Ceremony  string          `json:"ceremony"`
	}
	if err := json.Unmarshal(a.body, &b); err != nil || b.Ceremony == "" {
		e.t.Fatalf("%s: %s", path, a.body)
	}
	return b.PublicKey, b.Ceremony
}

func (e *env) register(auth *softauthn.Authenticator, token, name string) answer {
	e.t.Helper()
	opts, cer := e.begin("/api/auth/passkeys/register/begin", token, nil)
	cred, err := auth.Create(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(http.MethodPost, "/api/auth/passkeys/register/finish", token, map[string]any{"ceremony": cer, "name": name, "credential": json.RawMessage(cred)})
}

func (e *env) login(auth *softauthn.Authenticator, body any) answer {
	e.t.Helper()
	opts, cer := e.begin("/api/auth/passkeys/login/begin", "", body)
	cred, err := auth.Get(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(http.MethodPost, "/api/auth/passkeys/login/finish", "", map[string]any{"ceremony": cer, "credential": json.RawMessage(cred)})
}

func code(t testing.TB, a answer) string {
	t.Helper()
	c, _ := a.object(t)["code"].(string)
	return c
}

// TestPasskeyHTTPSoftwareAuthenticator registers a passkey and signs in
// with it over HTTP, with a software authenticator.
func TestPasskeyHTTPSoftwareAuthenticator(t *testing.T) {
	e := newEnv(t)
	u, tok := e.user("jane_doe", "Secret-pass-123")
	auth := softauthn.New(origin)
	auth.UV, auth.BackupEligible, auth.BackedUp = true, true, true

	a := e.register(auth, tok, "Laptop")
	if a.status != http.StatusCreated {
		t.Fatalf("register finish: %d %s", a.status, a.body)
	}
	k := a.object(t)
	if k["name"] != "Laptop" || k["backed_up"] != true || k["id"] == "" || k["last_used_at"] != nil {
		t.Errorf("registered passkey: %s", a.body)
	}

	// The existing credential is excluded from the next registration.
	opts, _ := e.begin("/api/auth/passkeys/register/begin", tok, nil)
	if _, err := auth.Create(opts); err == nil {
		t.Error("a second registration with the same authenticator was not excluded")
	}

	for _, body := range []any{nil, map[string]string{"username": "jane_doe"}} {
		a = e.login(auth, body)
		if a.status != http.StatusOK {
			t.Fatalf("login finish (%v): %d %s", body, a.status, a.body)
		}
		res := a.object(t)
		p, err := e.m.Authenticate(context.Background(), res["access_token"].(string))
		if err != nil || p.User().UUID != u.UUID || res["token_type"] != "bearer" || res["refresh_token"] == "" {
			t.Fatalf("token answer %s: %v", a.body, err)
		}
	}

	a = e.do(http.MethodGet, "/api/auth/passkeys", tok, nil)
	var list []map[string]any
	if err := json.Unmarshal(a.body, &list); err != nil || a.status != 200 || len(list) != 1 || list[0]["last_used_at"] == nil {
		t.Fatalf("list: %d %s", a.status, a.body)
	}
	id := list[0]["id"].(string)
	if a = e.do(http.MethodPatch, "/api/auth/passkeys/"+id, tok, map[string]string{"name": "Phone"}); a.status != 200 || a.object(t)["name"] != "Phone" {
		t.Errorf("rename: %d %s", a.status, a.body)
	}
	if a = e.do(http.MethodPatch, "/api/auth/passkeys/"+id, tok, map[string]string{"name": "bad\x00name"}); a.status != 422 || code(t, a) != "passkey_name_invalid" {
		t.Errorf("rename with a control character: %d %s", a.status, a.body)
	}
	// The account has a password: its only passkey can go.
	if a = e.do(http.MethodDelete, "/api/auth/passkeys/"+id, tok, nil); a.status != http.StatusNoContent {
		t.Errorf("remove: %d %s", a.status, a.body)
	}
	if a = e.do(http.MethodDelete, "/api/auth/passkeys/"+id, tok, nil); a.status != 404 || code(t, a) != "passkey_not_found" {
		t.Errorf("remove twice: %d %s", a.status, a.body)
	}
	entries, err := e.m.Audit(context.Background(), usermgmt.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, en := range entries {
		seen[en.Action] = true
	}
	for _, want := range []string{passkey.AuditRegistered, passkey.AuditRenamed, passkey.AuditRemoved, usermgmt.AuditLogin} {
		if !seen[want] {
			t.Errorf("no %s in the audit log", want)
		}
	}
}

// TestPasskeyBadInput: each bad finish is a clean 4xx with a stable code.
func TestPasskeyBadInput(t *testing.T) {
	e := newEnv(t)
	_, tok := e.user("jane_doe", "Secret-pass-123")
	auth := softauthn.New(origin)
	auth.UV = true
	if a := e.register(auth, tok, ""); a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.body)
	}

	// A replayed assertion: the ceremony is spent.
	opts, cer := e.begin("/api/auth/passkeys/login/begin", "", nil)
	cred, err := auth.Get(opts)
	if err != nil {
		t.Fatal(err)
	}
	finish := map[string]any{"ceremony": cer, "credential": json.RawMessage(cred)}
	if a := e.do(http.MethodPost, "/api/auth/passkeys/login/finish", "", finish); a.status != 200 {
		t.Fatalf("login: %d %s", a.status, a.body)
	}
	if a := e.do(http.MethodPost, "/api/auth/passkeys/login/finish", "", finish); a.status != 400 || code(t, a) != "passkey_ceremony_invalid" {
		t.Errorf("replay: %d %s", a.status, a.body)
	}

	// The same assertion under a new ceremony: the challenge differs.
	_, cer2 := e.begin("/api/auth/passkeys/login/begin", "", nil)
	if a := e.do(http.MethodPost, "/api/auth/passkeys/login/finish", "", map[string]any{"ceremony": cer2, "credential": json.RawMessage(cred)}); a.status != 401 || code(t, a) != "passkey_rejected" {
		t.Errorf("assertion of another challenge: %d %s", a.status, a.body)
	}

	// A counter going backwards: refused and audited.
	opts, cer = e.begin("/api/auth/passkeys/login/begin", "", nil)
	var ro struct {
		Challenge string `json:"challenge"`
	}
	_ = json.Unmarshal(opts, &ro)
	c := auth.Credentials()[0]
	old, err := auth.Assert(c, ro.Challenge, c.Counter-1)
	if err != nil {
		t.Fatal(err)
	}
	if a := e.do(http.MethodPost, "/api/auth/passkeys/login/finish", "", map[string]any{"ceremony": cer, "credential": json.RawMessage(old)}); a.status != 401 || code(t, a) != "passkey_counter_regressed" {
		t.Errorf("counter backwards: %d %s", a.status, a.body)
	}
	entries, _ := e.m.Audit(context.Background(), usermgmt.AuditQuery{})
	found := false
	for _, en := range entries {
		found = found || en.Action == passkey.AuditCounterRegressed
	}
	if !found {
		t.Error("the counter regression was not audited")
	}

	// A foreign origin, a foreign RP ID.
	for name, a2 := range map[string]*softauthn.Authenticator{"origin": {Origin: "https://evil.example.net"}, "rp id": {Origin: origin, RPIDOverride: "evil.example.net"}} {
		a2.UV = true
		opts, cer := e.begin("/api/auth/passkeys/register/begin", tok, nil)
		cred, err := a2.Create(opts)
		if err != nil {
			t.Fatal(err)
		}
		if a := e.do(http.MethodPost, "/api/auth/passkeys/register/finish", tok, map[string]any{"ceremony": cer, "credential": json.RawMessage(cred)}); a.status != 401 || code(t, a) != "passkey_rejected" {
			t.Errorf("foreign %s: %d %s", name, a.status, a.body)
		}
	}

	// An unknown credential, an unknown username's decoy.
	stranger := softauthn.New(origin)
	stranger.Credentials()
	if _, err := stranger.Create([]byte(`{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rp":{"id":"app.example.com"},"user":{"id":"dXNlcg"}}`)); err != nil {
		t.Fatal(err)
	}
	if a := e.login(stranger, nil); a.status != 401 || code(t, a) != "passkey_unknown_credential" {
		t.Errorf("unknown credential: %d %s", a.status, a.body)
	}
	opts, cer = e.begin("/api/auth/passkeys/login/begin", "", map[string]string{"username": "nobody"})
	optsAgain, _ := e.begin("/api/auth/passkeys/login/begin", "", map[string]string{"username": "nobody"})
	var o1, o2 struct {
		Allow []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	}
	_ = json.Unmarshal(opts, &o1)
	_ = json.Unmarshal(optsAgain, &o2)
	if len(o1.Allow) != 1 || len(o2.Allow) != 1 || o1.Allow[0].ID != o2.Allow[0].ID {
		t.Errorf("an unknown username's options do not list one stable decoy: %s / %s", opts, optsAgain)
	}

	// Malformed bodies and credentials; a wrong and an expired ceremony.
	_, regCer := e.begin("/api/auth/passkeys/register/begin", tok, nil)
	for name, tc := range map[string]struct {
		path   string
		body   any
		status int
		code   string
	}{
		"malformed credential": {"/api/auth/passkeys/login/finish", map[string]any{"ceremony": cer, "credential": map[string]any{"id": "x", "type": "public-key"}}, 400, "passkey_credential_malformed"},
		"credential not JSON":  {"/api/auth/passkeys/login/finish", map[string]any{"ceremony": cer, "credential": "abc"}, 400, "passkey_credential_malformed"},
		"no ceremony":          {"/api/auth/passkeys/login/finish", map[string]any{"credential": json.RawMessage(cred)}, 422, "invalid_request"},
		"wrong ceremony":       {"/api/auth/passkeys/login/finish", map[string]any{"ceremony": "nope", "credential": json.RawMessage(cred)}, 400, "passkey_ceremony_invalid"},
		"register ceremony":    {"/api/auth/passkeys/login/finish", map[string]any{"ceremony": regCer, "credential": json.RawMessage(cred)}, 400, "passkey_ceremony_invalid"},
		"body not an object":   {"/api/auth/passkeys/login/finish", []int{1}, 422, "invalid_request"},
	} {
		if a := e.do(http.MethodPost, tc.path, "", tc.body); a.status != tc.status || code(t, a) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", name, a.status, a.body, tc.status, tc.code)
		}
	}
	opts, cer = e.begin("/api/auth/passkeys/login/begin", "", nil)
	cred, _ = auth.Get(opts)
	e.clock.Add(passkey.DefaultCeremonyTTL + time.Second)
	if a := e.do(http.MethodPost, "/api/auth/passkeys/login/finish", "", map[string]any{"ceremony": cer, "credential": json.RawMessage(cred)}); a.status != 400 || code(t, a) != "passkey_ceremony_invalid" {
		t.Errorf("expired ceremony: %d %s", a.status, a.body)
	}
}

// TestImpersonatedRefused: an impersonation (a session opened with
// usermgmt.ActingParty, as the impersonate feature does) cannot register,
// rename or remove a passkey of the user.
func TestImpersonatedRefused(t *testing.T) {
	e := newEnv(t)
	admin, _ := e.user("rootadmin", "Correct-horse-9", usermgmt.RoleAdmin)
	jane, _ := e.user("janedoe", "Correct-horse-9")
	tk, err := e.m.OpenSession(context.Background(), jane, usermgmt.ActingParty(admin.UUID))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/auth/passkeys/register/begin", nil},
		{http.MethodPost, "/api/auth/passkeys/register/finish", map[string]any{"ceremony": "x", "credential": map[string]any{}}},
		{http.MethodPatch, "/api/auth/passkeys/some-id", map[string]any{"name": "mine"}},
		{http.MethodDelete, "/api/auth/passkeys/some-id", nil},
	} {
		a := e.do(c.method, c.path, tk.AccessToken, c.body)
		if a.status != http.StatusForbidden || a.object(t)["code"] != "impersonation_forbidden" {
			t.Errorf("%s %s: %d %s, want 403 impersonation_forbidden", c.method, c.path, a.status, a.body)
		}
	}
}
