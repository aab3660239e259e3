package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/jwtkeys"
	"github.com/usermgmt/usermgmt/store/anydb"
)

const password = "Correct-Horse-9"

// TestVerifierThroughJWKS: a second service verifies the tokens of a
// usermgmt service served over real HTTP, through its discovery document
// and JWKS only, and follows a key rotation (a new kid makes it fetch the
// keys again) while the old tokens keep working.
func TestVerifierThroughJWKS(t *testing.T) {
	ctx := context.Background()
	st, err := anydb.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })

	var handler atomic.Pointer[http.Handler]
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	issuer := "http://" + srv.Listener.Addr().String()
	serve := func(sign *jwtkeys.Key, verify ...*jwtkeys.Key) *usermgmt.Manager {
		t.Helper()
		set, err := jwtkeys.NewSet(sign, verify...)
		if err != nil {
			t.Fatal(err)
		}
		m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("the-issuers-own-secret-0123456789"),
			SigningKeys: set, Issuer: issuer, BaseURL: issuer, Audience: "api", BcryptCost: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		h := httpadapter.New(m, httpadapter.Options{})
		handler.Store(&h)
		return m
	}
	oldKey, err := jwtkeys.Generate(jwtkeys.EdDSA, nil)
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := jwtkeys.Generate(jwtkeys.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := serve(oldKey)
	srv.Start()
	t.Cleanup(srv.Close)

	u, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "second_service", Email: "s@example.com", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	first, err := m.Login(ctx, "second_service", password)
	if err != nil {
		t.Fatal(err)
	}

	v, err := NewVerifier(ctx, srv.Client(), issuer, "api")
	if err != nil {
		t.Fatal(err)
	}
	v.refetch = 0 // the test rotates at once
	hello := requireToken(v, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Context().Value(subjectKey{}).(string)))
	}))
	call := func(tok string) (int, string) {
		r := httptest.NewRequest("GET", "/hello", nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		hello.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	if code, body := call(first.AccessToken); code != http.StatusOK || body != u.UUID {
		t.Fatalf("a token of the issuer: %d %s", code, body)
	}
	if code, _ := call(""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	parts := strings.Split(first.AccessToken, ".")
	if code, _ := call(parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))); code != http.StatusUnauthorized {
		t.Errorf("a bad signature: %d", code)
	}
	other, err := NewVerifier(ctx, srv.Client(), issuer, "another-api")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Verify(ctx, first.AccessToken); err == nil {
		t.Error("a token for another audience was accepted")
	}

	// The issuer publishes the next key, then signs with it.
	serve(oldKey, newKey)
	m = serve(newKey, oldKey)
	second, err := m.Login(ctx, "second_service", password)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"old key": first.AccessToken, "new key": second.AccessToken} {
		if code, body := call(tok); code != http.StatusOK || body != u.UUID {
			t.Errorf("%s after the rotation: %d %s", name, code, body)
		}
	}
	// Retired: a token of the old key no longer verifies once the JWKS
	// drops it (here at once, as the cache is refreshed on every unknown kid).
	serve(newKey)
	v.mu.Lock()
	v.expires = v.tried // as if the cached JWKS had expired
	v.mu.Unlock()
	if _, err := v.Verify(ctx, first.AccessToken); err == nil {
		t.Error("a token of the retired key was accepted")
	}
}
