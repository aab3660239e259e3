package apikey_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestXAPIKeyTakesOnlyKeys: X-API-Key carries an API key and nothing else:
// a session's access token (valid as a bearer token), or anything else
// that is not a key, is 401 invalid_api_key there, on the routes and in the
// host middleware, while "Authorization: Bearer" keeps taking both.
func TestXAPIKeyTakesOnlyKeys(t *testing.T) {
	e := newEnv(t, "", true, defaultCfg)
	u, tok := e.user("jane_doe")
	key, _ := e.create(tok, map[string]any{"name": "ci", "scopes": []string{"user:read"}})
	host := httpadapter.RequireAuth(e.m)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	viaHost := func(header, value string) answer {
		r := httptest.NewRequest(http.MethodGet, "/host", nil)
		r.Header.Set(header, value)
		rec := httptest.NewRecorder()
		host.ServeHTTP(rec, r)
		return answer{rec.Code, rec.Header(), rec.Body.Bytes()}
	}
	for name, v := range map[string]string{
		"a session's access token": tok,
		"a bearer header's value":  "Bearer " + key,
		"not a credential":         "hello",
		"a JWT's shape":            "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
	} {
		if a := e.do(http.MethodGet, "/api/user/me", "X-API-Key", v, nil); a.status != http.StatusUnauthorized || a.code() != "invalid_api_key" {
			t.Errorf("%s in X-API-Key: %d %s, want 401 invalid_api_key", name, a.status, a.body)
		}
		if a := viaHost("X-API-Key", v); a.status != http.StatusUnauthorized || a.code() != "invalid_api_key" {
			t.Errorf("%s in X-API-Key, host middleware: %d %s, want 401 invalid_api_key", name, a.status, a.body)
		}
	}
	for name, c := range map[string]struct{ header, value string }{
		"key in X-API-Key":       {"X-API-Key", key},
		"key as bearer":          {"Authorization", "Bearer " + key},
		"access token as bearer": {"Authorization", "Bearer " + tok},
	} {
		if a := e.do(http.MethodGet, "/api/user/me", c.header, c.value, nil); a.status != http.StatusOK || a.object(t)["uuid"] != u.UUID {
			t.Errorf("%s: %d %s, want 200", name, a.status, a.body)
		}
		if a := viaHost(c.header, c.value); a.status != http.StatusNoContent {
			t.Errorf("%s, host middleware: %d %s, want 204", name, a.status, a.body)
		}
	}
	// The bearer header still wins over X-API-Key.
	r := httptest.NewRequest(http.MethodGet, "/api/user/me", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("X-API-Key", "hello")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Errorf("bearer token with a bad X-API-Key: %d %s, want 200", rec.Code, rec.Body)
	}
}
