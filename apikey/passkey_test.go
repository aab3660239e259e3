package apikey_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/passkey"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// TestKeysCannotManagePasskeys: another feature's session-only routes
// (Route.SessionOnly) refuse a key, and still serve a session.
func TestKeysCannotManagePasskeys(t *testing.T) {
	ctx := context.Background()
	st, err := anydb.Open(ctx, "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BcryptCost: 4,
		BaseURL: "https://app.example.com", Logger: quiet}, usermgmt.WithFeature(apikey.New(apikey.Config{}), passkey.New(passkey.Config{})))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	e := &env{t: t, m: m, h: httpadapter.New(m, httpadapter.Options{Prefix: "/api", Logger: quiet})}
	_, tok := e.user("jane_doe")
	key, _ := e.create(tok, map[string]any{"name": "all", "scopes": []string{"passkey:read", "passkey:delete"}})
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/api/auth/passkeys/register/begin"},
		{http.MethodPost, "/api/auth/passkeys/register/finish"},
		{http.MethodPatch, "/api/auth/passkeys/pk-1"},
		{http.MethodDelete, "/api/auth/passkeys/pk-1"},
	} {
		var body any
		if c.method != http.MethodDelete && c.path != "/api/auth/passkeys/register/begin" {
			body = map[string]any{"ceremony": "c", "name": "n", "credential": map[string]any{"id": "x"}}
		}
		if a := e.bearer(c.method, c.path, key, body); a.status != http.StatusForbidden || a.code() != "session_required" {
			t.Errorf("%s %s with a key: %d %s", c.method, c.path, a.status, a.body)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/api/auth/passkeys/register/begin", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Errorf("register begin with a session: %d %s", rec.Code, rec.Body)
	}
	if a := e.bearer(http.MethodGet, "/api/auth/passkeys", key, nil); a.status != http.StatusOK {
		t.Errorf("listing one's passkeys with a key: %d %s", a.status, a.body)
	}
}
