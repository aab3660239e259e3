package apikey_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// cacheBound is the Manager's default CacheTTL: how soon another instance
// must see a change; slack covers the polling and a loaded machine.
const (
	cacheBound = usermgmt.DefaultCacheTTL
	slack      = 750 * time.Millisecond
)

// refusedWithin polls e with key until it is refused and returns how long
// that took, failing t past the bound.
func refusedWithin(t *testing.T, e *env, key string, since time.Time) time.Duration {
	t.Helper()
	for {
		a := e.bearer(http.MethodGet, "/api/user/me", key, nil)
		if a.status == http.StatusUnauthorized {
			return time.Since(since)
		}
		if a.status != http.StatusOK {
			t.Fatalf("unexpected answer %d %s", a.status, a.body)
		}
		if time.Since(since) > cacheBound+slack {
			t.Fatalf("still accepted %v after the change (bound %v)", time.Since(since), cacheBound)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestRevocationSeenBySecondInstance: two Managers on one database; a
// revocation, a ban and a deletion on the first stop the key on the
// second within the cache bound.
func TestRevocationSeenBySecondInstance(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			dsn := db.dsn(t)
			a := newEnv(t, dsn, false, apikey.Config{})
			b := newEnv(t, dsn, false, apikey.Config{})
			admin, _ := a.user("the_admin", usermgmt.RoleAdmin)
			u, tok := a.user("jane_doe")
			ctx := context.Background()

			// Revocation.
			key, id := a.create(tok, map[string]any{"name": "ci", "scopes": []string{}})
			if me := b.bearer(http.MethodGet, "/api/user/me", key, nil); me.status != http.StatusOK {
				t.Fatalf("second instance: %d %s", me.status, me.body) // now cached there
			}
			start := time.Now()
			if d := a.bearer(http.MethodDelete, "/api/user/me/api-keys/"+id, tok, nil); d.status != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", d.status, d.body)
			}
			if me := a.bearer(http.MethodGet, "/api/user/me", key, nil); me.status != http.StatusUnauthorized {
				t.Errorf("first instance after revoking: %d", me.status)
			}
			t.Logf("revocation seen by the second instance after %v", refusedWithin(t, b, key, start))

			// Ban, then deletion, of the owner.
			key, _ = a.create(tok, map[string]any{"name": "ci2", "scopes": []string{}})
			if me := b.bearer(http.MethodGet, "/api/user/me", key, nil); me.status != http.StatusOK {
				t.Fatalf("second instance: %d %s", me.status, me.body)
			}
			start = time.Now()
			if _, err := a.m.As(admin).Ban(ctx, u.UUID, "spam"); err != nil {
				t.Fatal(err)
			}
			t.Logf("ban seen after %v", refusedWithin(t, b, key, start))
			if _, err := a.m.As(admin).Unban(ctx, u.UUID, ""); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(cacheBound + slack)
			for b.bearer(http.MethodGet, "/api/user/me", key, nil).status != http.StatusOK {
				if time.Now().After(deadline) {
					t.Fatal("the unban is not seen by the second instance")
				}
				time.Sleep(25 * time.Millisecond)
			}
			start = time.Now()
			if err := a.m.DeleteUser(ctx, u.UUID); err != nil {
				t.Fatal(err)
			}
			t.Logf("deletion seen after %v", refusedWithin(t, b, key, start))
		})
	}
}

// TestHostMiddleware: RequireAuth takes a key in either header, and the
// Manager calls made with the request's context keep to its scopes.
func TestHostMiddleware(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{})
	u, tok := e.user("jane_doe")
	other, _ := e.user("other_user")
	key, _ := e.create(tok, map[string]any{"name": "ci", "scopes": []string{"file:read"}})
	h := httpadapter.RequireAuth(e.m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := httpadapter.CurrentPrincipal(r.Context())
		if !ok || p.User().UUID != u.UUID {
			http.Error(w, "no caller", http.StatusInternalServerError)
			return
		}
		if _, err := e.m.As(p.User()).User(r.Context(), other.UUID); err != usermgmt.ErrInsufficientScope {
			http.Error(w, "user.read allowed to a key without the scope", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	for _, c := range []struct{ header, value string }{{"Authorization", "Bearer " + key}, {"X-API-Key", key}} {
		r := httptest.NewRequest(http.MethodGet, "/app/dashboard", nil)
		r.Header.Set(c.header, c.value)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusNoContent {
			t.Errorf("%s: %d %s", c.header, rec.Code, rec.Body)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/app/dashboard", nil)
	r.Header.Set("X-API-Key", key[:len(key)-2])
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("truncated key: %d %s", rec.Code, rec.Body)
	}
}

// storeWithout is a store without the feature's capability.
type storeWithout struct{ usermgmt.Store }

// TestNeedsStore: New fails, naming the interface, over a store that
// lacks keystore.Store.
func TestNeedsStore(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{})
	_, err := usermgmt.New(usermgmt.Config{Store: storeWithout{e.m.Store()}, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BcryptCost: 4, Logger: quiet},
		usermgmt.WithFeature(apikey.New(apikey.Config{})))
	if err == nil || !errorsIs(err, usermgmt.ErrStoreCapability) {
		t.Fatalf("New = %v, want ErrStoreCapability", err)
	}
	if _, err := usermgmt.New(usermgmt.Config{Store: e.m.Store(), JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BcryptCost: 4, Logger: quiet},
		usermgmt.WithFeature(apikey.New(apikey.Config{Rate: usermgmt.Rate{Limit: 5}}))); err == nil {
		t.Error("New with a rate without a window succeeded")
	}
}
