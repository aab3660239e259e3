package httpadapter_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/jwtkeys"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// keysEnv is an env whose Manager signs with keys and runs hook.
func keysEnv(t *testing.T, keys *jwtkeys.Set, hook func(context.Context, *usermgmt.User, *usermgmt.Session) (map[string]any, error)) *env {
	t.Helper()
	st, err := anydb.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	logs := &syncBuffer{}
	m, err := usermgmt.New(usermgmt.Config{
		Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), SigningKeys: keys,
		BaseURL: baseURL, Issuer: baseURL, Audience: "api", AccessTokenClaims: hook, BcryptCost: 4,
		Logger: newQuietLogger(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &env{t: t, m: m, h: httpadapter.New(m, httpadapter.Options{JWKSMaxAge: 10 * time.Minute}), logs: logs}
}

// TestJWKSAndDiscovery: with asymmetric keys, the JWKS publishes their
// public halves (never a secret) with a public cache time, the discovery
// document points to it, and tokens signed by the key work on the API.
func TestJWKSAndDiscovery(t *testing.T) {
	sign, err := jwtkeys.Generate(jwtkeys.EdDSA, nil)
	if err != nil {
		t.Fatal(err)
	}
	next, err := jwtkeys.Generate(jwtkeys.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, err := jwtkeys.Secret([]byte("the-old-hs256-secret-0123456789ab"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwtkeys.NewSet(sign, next, old)
	if err != nil {
		t.Fatal(err)
	}
	e := keysEnv(t, set, nil)

	r := e.do(request{method: "GET", path: "/.well-known/jwks.json"})
	r.wantStatus(t, http.StatusOK)
	if cc := r.header.Get("Cache-Control"); cc != "public, max-age=600" {
		t.Errorf("Cache-Control = %q", cc)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var jwks jwtkeys.JWKSet
	r.decode(t, &jwks)
	if len(jwks.Keys) != 2 || jwks.Keys[0].Kid != sign.ID() || jwks.Keys[0].Alg != "EdDSA" ||
		jwks.Keys[1].Kid != next.ID() || jwks.Keys[1].Crv != "P-256" {
		t.Errorf("jwks = %s", r.body)
	}

	r = e.do(request{method: "GET", path: "/.well-known/openid-configuration"})
	r.wantStatus(t, http.StatusOK)
	c := r.object(t)
	if c["issuer"] != baseURL || c["jwks_uri"] != baseURL+"/.well-known/jwks.json" {
		t.Errorf("discovery = %s", r.body)
	}
	if r.header.Get("Cache-Control") != "public, max-age=600" {
		t.Errorf("discovery Cache-Control = %q", r.header.Get("Cache-Control"))
	}

	if _, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: "jwks_user", Email: "jwks_user@example.com", Password: password}); err != nil {
		t.Fatal(err)
	}
	tk := e.login("jwks_user")
	if kidOf(t, tk.AccessToken) != sign.ID() {
		t.Errorf("token kid %s, want %s", kidOf(t, tk.AccessToken), sign.ID())
	}
	e.do(request{method: "GET", path: "/api/user/me", token: tk.AccessToken}).wantStatus(t, http.StatusOK)
}

// TestJWKSWithSecretsOnly: an HS256-only Manager publishes nothing.
func TestJWKSWithSecretsOnly(t *testing.T) {
	e := newEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"), httpadapter.Options{})
	for _, path := range []string{"/.well-known/jwks.json", "/.well-known/openid-configuration"} {
		e.do(request{method: "GET", path: path}).wantError(t, http.StatusNotFound, "no_public_keys")
	}
}

// TestLoginClaimsHookFails: a failing claims hook makes the login a clean
// 503 with a stable code (no 500), and a 4xx error of the hook is
// answered as it is.
func TestLoginClaimsHookFails(t *testing.T) {
	var hookErr error
	e := keysEnv(t, nil, func(context.Context, *usermgmt.User, *usermgmt.Session) (map[string]any, error) {
		return map[string]any{"tenant": "acme"}, hookErr
	})
	if _, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: "hook_user", Email: "hook_user@example.com", Password: password}); err != nil {
		t.Fatal(err)
	}
	tk := e.login("hook_user")
	if p := payloadOf(t, tk.AccessToken); p["tenant"] != "acme" {
		t.Errorf("claims = %v", p)
	}
	login := func() result {
		return e.do(request{method: "POST", path: "/api/auth/login", json: map[string]string{"username": "hook_user", "password": password}})
	}
	hookErr = errors.New("backend down")
	login().wantError(t, http.StatusServiceUnavailable, "access_token_claims_failed")
	hookErr = usermgmt.NewError(http.StatusForbidden, "tenant_suspended", "Your organization is suspended.")
	login().wantError(t, http.StatusForbidden, "tenant_suspended")
}

// newQuietLogger logs to w, for the test's failure output.
func newQuietLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// segment decodes the JSON of a token's header (0) or payload (1).
func segment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func kidOf(t *testing.T, tok string) any { return segment(t, tok, 0)["kid"] }

func payloadOf(t *testing.T, tok string) map[string]any { return segment(t, tok, 1) }
