package org_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/org"
)

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// claimsOf returns the payload of an access token.
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// orgProbe serves /app/{org}/home, /app/{org}/admin (owners, admins) and
// /active (the token's organization) and answers "role name" of
// CurrentOrg: name is empty when the check read the token's claims only.
func orgProbe(t *testing.T, e *env) http.Handler {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur, ok := org.CurrentOrg(r.Context())
		if !ok {
			t.Error("no CurrentOrg")
			return
		}
		_, _ = w.Write([]byte(cur.Role + " " + cur.Org.Name))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /app/{org}/home", org.RequireOrgRole(e.m, e.orgs, "org")(page))
	mux.Handle("GET /app/{org}/admin", org.RequireOrgRole(e.m, e.orgs, "org", org.RoleOwner, org.RoleAdmin)(page))
	mux.Handle("GET /active", org.RequireOrgRole(e.m, e.orgs, "")(page))
	return mux
}

func probe(h http.Handler, path, token string) (int, string) {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestSwitchOrg: POST /auth/switch-org gives a member a token of the same
// session with org_id and org_role, which refreshes keep and which
// RequireOrgRole reads without the store; a non-member gets 403, a bad
// body 422, null clears the claims.
func TestSwitchOrg(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			ctx := context.Background()
			clock := &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			e := newEnvClock(t, db.dsn(t), org.Config{}, clock.Now)
			h := httpadapter.New(e.m, httpadapter.Options{Prefix: "/api", Logger: quiet})
			app := orgProbe(t, e)
			owner, mem, out := e.user(), e.user(), e.user()
			o := e.create(owner, "switchy")
			e.join(owner, o, mem, org.RoleMember)
			clock.add(2 * time.Second) // tokens issued after the last membership change
			tok, err := e.m.OpenSession(ctx, mem)
			if err != nil {
				t.Fatal(err)
			}

			r := call(t, h, "POST", "/api/auth/switch-org", tok.AccessToken, `{"org_id":"`+strings.ToUpper(o.ID)+`"}`)
			if r.status != 200 || r.body["refresh_token"] != "" {
				t.Fatalf("switch = %d %s", r.status, r.raw)
			}
			access, _ := r.body["access_token"].(string)
			c := claimsOf(t, access)
			if c["org_id"] != o.ID || c["org_role"] != org.RoleMember || c["sid"] != tok.SessionID {
				t.Errorf("switched claims = %v", c)
			}
			for path, want := range map[string]string{"/app/" + o.ID + "/home": "member ", "/active": "member "} {
				if code, body := probe(app, path, access); code != 200 || body != want {
					t.Errorf("GET %s = %d %q, want 200 %q (from the claims)", path, code, body, want)
				}
			}
			if code, _ := probe(app, "/app/"+o.ID+"/admin", access); code != 403 {
				t.Errorf("admin route with a member's claims = %d", code)
			}
			if code, body := probe(app, "/app/"+o.ID+"/home", tok.AccessToken); code != 200 || body != "member Org switchy" {
				t.Errorf("without claims = %d %q, want the store's answer", code, body)
			}
			if code, _ := probe(app, "/active", tok.AccessToken); code != 404 {
				t.Errorf("/active without an active organization = %d", code)
			}

			// The refresh token still works and carries the choice on.
			next, err := e.m.Refresh(ctx, tok.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if c := claimsOf(t, next.AccessToken); c["org_id"] != o.ID || c["org_role"] != org.RoleMember {
				t.Errorf("refreshed claims = %v", c)
			}

			// Not a member; bad bodies.
			tout := e.token(out)
			if r := call(t, h, "POST", "/api/auth/switch-org", tout, `{"org_id":"`+o.ID+`"}`); r.status != 403 || r.body["code"] != "org_not_member" {
				t.Errorf("non-member switch = %d %s", r.status, r.raw)
			}
			if r := call(t, h, "POST", "/api/auth/switch-org", tout, `{"org_id":"0b5c6e3a-1111-4222-8333-444455556666"}`); r.status != 403 || r.body["code"] != "org_not_member" {
				t.Errorf("unknown organization = %d %s", r.status, r.raw)
			}
			for _, bad := range []string{`{}`, `{"org_id":5}`, `{"org_id":"nonsense"}`, `{"org_id":""}`, `[1]`} {
				if r := call(t, h, "POST", "/api/auth/switch-org", tout, bad); r.status != 422 {
					t.Errorf("switch %s = %d %s, want 422", bad, r.status, r.raw)
				}
			}
			if r := call(t, h, "POST", "/api/auth/switch-org", "", `{"org_id":null}`); r.status != 401 {
				t.Errorf("anonymous switch = %d", r.status)
			}

			// null clears, for this token and the next refreshes.
			r = call(t, h, "POST", "/api/auth/switch-org", next.AccessToken, `{"org_id":null}`)
			if r.status != 200 {
				t.Fatalf("clear = %d %s", r.status, r.raw)
			}
			cleared, _ := r.body["access_token"].(string)
			if c := claimsOf(t, cleared); c["org_id"] != nil || c["org_role"] != nil {
				t.Errorf("cleared claims = %v", c)
			}
			again, err := e.m.Refresh(ctx, next.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if c := claimsOf(t, again.AccessToken); c["org_id"] != nil {
				t.Errorf("claims after a clear and a refresh = %v", c)
			}
		})
	}
}

// TestOrgClaimsInvalidation: a membership change stops the org claims
// being trusted at once on the instance that made it and within CacheTTL
// on another instance (a second Manager on the same database); a removed
// member's refresh carries no claims.
func TestOrgClaimsInvalidation(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			ctx := context.Background()
			clock := &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			dsn := db.dsn(t)
			e := newEnvClock(t, dsn, org.Config{}, clock.Now)
			other := newEnvClock(t, dsn, org.Config{}, clock.Now) // another instance
			app, otherApp := orgProbe(t, e), orgProbe(t, other)
			owner, mem := e.user(), e.user()
			o := e.create(owner, "bounded")
			e.join(owner, o, mem, org.RoleAdmin)
			clock.add(2 * time.Second)
			tok, err := e.m.OpenSession(ctx, mem)
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.m.Authenticate(ctx, tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			sw, err := e.orgs.SwitchOrg(ctx, p, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			home, admin := "/app/"+o.ID+"/home", "/app/"+o.ID+"/admin"
			for _, a := range []http.Handler{app, otherApp} {
				if code, body := probe(a, admin, sw.AccessToken); code != 200 || body != "admin " {
					t.Fatalf("before the change = %d %q", code, body)
				}
			}

			// A demotion: the claims say admin; both instances must stop
			// believing them, this one at once, the other within CacheTTL.
			clock.add(time.Second)
			if _, err := e.orgs.SetRole(ctx, owner, o.ID, mem.UUID, org.RoleMember); err != nil {
				t.Fatal(err)
			}
			if code, _ := probe(app, admin, sw.AccessToken); code != 403 {
				t.Errorf("this instance after the demotion = %d, want 403", code)
			}
			if code, body := probe(app, home, sw.AccessToken); code != 200 || body != "member Org bounded" {
				t.Errorf("this instance after the demotion = %d %q, want the store's member", code, body)
			}
			clock.add(usermgmt.DefaultCacheTTL + time.Second)
			if code, _ := probe(otherApp, admin, sw.AccessToken); code != 403 {
				t.Errorf("other instance past CacheTTL after the demotion = %d, want 403", code)
			}

			// A fresh token (a refresh) is trusted again: then a removal.
			clock.add(time.Second)
			next, err := e.m.Refresh(ctx, tok.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if code, body := probe(app, home, next.AccessToken); code != 200 || body != "member " {
				t.Fatalf("refreshed token = %d %q, want the claims' member", code, body)
			}
			if code, body := probe(otherApp, home, next.AccessToken); code != 200 || body != "member " {
				t.Fatalf("refreshed token on the other instance = %d %q", code, body)
			}
			clock.add(time.Second)
			if err := e.orgs.RemoveMember(ctx, owner, o.ID, mem.UUID); err != nil {
				t.Fatal(err)
			}
			if code, _ := probe(app, home, next.AccessToken); code != 404 {
				t.Errorf("this instance after the removal = %d, want 404", code)
			}
			clock.add(usermgmt.DefaultCacheTTL + time.Second)
			if code, _ := probe(otherApp, home, next.AccessToken); code != 404 {
				t.Errorf("other instance past CacheTTL after the removal = %d, want 404", code)
			}
			if code, _ := probe(otherApp, "/active", next.AccessToken); code != 404 {
				t.Errorf("/active after the removal = %d, want 404", code)
			}
			last, err := e.m.Refresh(ctx, next.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			if c := claimsOf(t, last.AccessToken); c["org_id"] != nil {
				t.Errorf("a removed member's refresh = %v", c)
			}
		})
	}
}

// TestOrgClaimsDeletedOrg: deleting the organization (Delete, and
// DeleteUserWithOrgs of its last owner) stops its members' claims being
// trusted.
func TestOrgClaimsDeletedOrg(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			ctx := context.Background()
			clock := &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			e := newEnvClock(t, db.dsn(t), org.Config{}, clock.Now)
			app := orgProbe(t, e)
			owner, mem := e.user(), e.user()
			o := e.create(owner, "doomed")
			e.join(owner, o, mem, org.RoleMember)
			clock.add(2 * time.Second)
			tok, err := e.m.OpenSession(ctx, mem)
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.m.Authenticate(ctx, tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			sw, err := e.orgs.SwitchOrg(ctx, p, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if code, _ := probe(app, "/active", sw.AccessToken); code != 200 {
				t.Fatalf("before = %d", code)
			}
			clock.add(time.Second)
			if err := e.orgs.Delete(ctx, owner, o.ID); err != nil {
				t.Fatal(err)
			}
			if code, _ := probe(app, "/active", sw.AccessToken); code != 404 {
				t.Errorf("/active after the deletion = %d, want 404", code)
			}
			if code, _ := probe(app, "/app/"+o.ID+"/home", sw.AccessToken); code != 404 {
				t.Errorf("home after the deletion = %d, want 404", code)
			}

			// An organization deleted with its last owner (DeleteUserWithOrgs).
			admin, lone := e.user(usermgmt.RoleAdmin), e.user()
			o2 := e.create(lone, "orphaned")
			e.join(lone, o2, mem, org.RoleMember)
			clock.add(2 * time.Second)
			sw2, err := e.orgs.SwitchOrg(ctx, p, o2.ID)
			if err != nil {
				t.Fatal(err)
			}
			if code, _ := probe(app, "/active", sw2.AccessToken); code != 200 {
				t.Fatalf("before DeleteUserWithOrgs = %d", code)
			}
			clock.add(time.Second)
			if gone, err := e.orgs.DeleteUserWithOrgs(ctx, admin, lone.UUID); err != nil || len(gone) != 1 {
				t.Fatalf("DeleteUserWithOrgs = %v, %v", gone, err)
			}
			if code, _ := probe(app, "/active", sw2.AccessToken); code != 404 {
				t.Errorf("/active after DeleteUserWithOrgs = %d, want 404", code)
			}
		})
	}
}
