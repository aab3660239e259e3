package impersonate_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/impersonate"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store/anydb"
)

const password = "Correct-horse-9"

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

// databases runs f on SQLite and on PostgreSQL.
func databases(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, "sqlite://:memory:") })
	t.Run("postgres", func(t *testing.T) { f(t, testpg.DSN(t)) })
}

func newEnv(t testing.TB, dsn string, policy *usermgmt.Policy) *env {
	t.Helper()
	st, err := anydb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := &clock{t: time.Now()}
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"),
		BaseURL: "https://app.example.com", BcryptCost: 4, DataDir: t.TempDir(), Clock: c.Now, Policy: policy},
		usermgmt.WithFeature(impersonate.New(impersonate.Options{})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &env{t: t, m: m, h: httpadapter.New(m, httpadapter.Options{Prefix: "/api", Pages: &httpadapter.PagesOptions{}}), clock: c}
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
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			e.t.Fatal(err)
		}
	}
	r := httptest.NewRequest(method, path, bytes.NewReader(b))
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

// want fails unless a has the status and, when code is not "", the code.
func want(t testing.TB, what string, a answer, status int, code string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: %d %s, want %d", what, a.status, a.body, status)
	}
	if code != "" {
		if got := a.object(t)["code"]; got != code {
			t.Fatalf("%s: code %v (%s), want %s", what, got, a.body, code)
		}
	}
}

func (e *env) user(name string, roles ...string) (*usermgmt.User, string) {
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

// impersonate starts an impersonation and returns its access token.
func (e *env) impersonate(adminToken, uuid string) string {
	e.t.Helper()
	a := e.do(http.MethodPost, "/api/admin/impersonate/"+uuid, adminToken, nil)
	want(e.t, "impersonate", a, http.StatusOK, "")
	tok, _ := a.object(e.t)["access_token"].(string)
	if tok == "" {
		e.t.Fatalf("no access_token: %s", a.body)
	}
	return tok
}

// claims decodes a JWT's payload (its signature is the Manager's to check).
func claims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
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

func TestImpersonationToken(t *testing.T) {
	databases(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		admin, adminTok := e.user("rootadmin", usermgmt.RoleAdmin)
		jane, janeTok := e.user("janedoe")

		a := e.do(http.MethodPost, "/api/admin/impersonate/"+jane.UUID, adminTok, nil)
		want(t, "impersonate", a, http.StatusOK, "")
		body := a.object(t)
		if _, ok := body["refresh_token"]; ok {
			t.Errorf("an impersonation answers a refresh token: %s", a.body)
		}
		if body["token_type"] != "bearer" || body["user_uuid"] != jane.UUID || body["impersonated_by"] != admin.UUID {
			t.Errorf("answer %s", a.body)
		}
		if n, _ := body["expires_in"].(float64); n != 3600 {
			t.Errorf("expires_in %v, want 3600", body["expires_in"])
		}
		tok := body["access_token"].(string)
		c := claims(t, tok)
		if c["sub"] != jane.UUID {
			t.Errorf("sub %v, want the target %s", c["sub"], jane.UUID)
		}
		if act, _ := c["act"].(map[string]any); act["sub"] != admin.UUID || len(act) != 1 {
			t.Errorf("act %v, want {sub: %s}", c["act"], admin.UUID)
		}
		if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 3600 {
			t.Errorf("lifetime %v s, want 3600", exp-iat)
		}
		if _, ok := claims(t, janeTok)["act"]; ok {
			t.Error("a token of the user's own session carries act")
		}

		p, err := e.m.Authenticate(context.Background(), tok)
		if err != nil || p.User().UUID != jane.UUID || p.Impersonator != admin.UUID {
			t.Fatalf("Authenticate: %+v, %v", p, err)
		}

		me := e.do(http.MethodGet, "/api/user/me", tok, nil)
		want(t, "me impersonated", me, http.StatusOK, "")
		if got := me.object(t); got["uuid"] != jane.UUID || got["impersonated_by"] != admin.UUID {
			t.Errorf("GET /user/me: uuid %v impersonated_by %v", got["uuid"], got["impersonated_by"])
		}
		own := e.do(http.MethodGet, "/api/user/me", janeTok, nil)
		if _, ok := own.object(t)["impersonated_by"]; ok {
			t.Errorf("GET /user/me of the user's own session marks an impersonation: %s", own.body)
		}

		// The session cannot be renewed: the row's refresh token was
		// given to nobody, and the session ends with the token.
		ss, err := e.m.Sessions(context.Background(), jane.UUID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			if s.ID == p.SessionID && s.ExpiresAt.Sub(s.CreatedAt) != time.Hour {
				t.Errorf("impersonation session lasts %v, want 1h", s.ExpiresAt.Sub(s.CreatedAt))
			}
		}
		e.clock.Add(time.Hour + time.Minute)
		want(t, "after an hour", e.do(http.MethodGet, "/api/user/me", tok, nil), http.StatusUnauthorized, "")
	})
}

func TestImpersonationRefused(t *testing.T) {
	databases(t, func(t *testing.T, dsn string) {
		// A policy in which moderators read the audit log: a moderator
		// with admin rights.
		policy := usermgmt.DefaultPolicy()
		e := newEnv(t, dsn, policy)
		admin, adminTok := e.user("rootadmin", usermgmt.RoleAdmin)
		other, _ := e.user("otheradmin", usermgmt.RoleAdmin)
		mod, modTok := e.user("moderator", usermgmt.RoleModerator)
		jane, janeTok := e.user("janedoe")
		unknown := "123e4567-e89b-42d3-a456-426614174000"

		want(t, "oneself", e.do(http.MethodPost, "/api/admin/impersonate/"+admin.UUID, adminTok, nil), http.StatusUnprocessableEntity, "cannot_impersonate_self")
		want(t, "an admin", e.do(http.MethodPost, "/api/admin/impersonate/"+other.UUID, adminTok, nil), http.StatusForbidden, "cannot_impersonate_admin")
		want(t, "unknown", e.do(http.MethodPost, "/api/admin/impersonate/"+unknown, adminTok, nil), http.StatusNotFound, "user_not_found")
		want(t, "malformed", e.do(http.MethodPost, "/api/admin/impersonate/not-a-uuid", adminTok, nil), http.StatusNotFound, "user_not_found")
		// A caller who may not impersonate learns nothing of the target.
		for _, target := range []string{jane.UUID, unknown, admin.UUID} {
			want(t, "a user impersonating", e.do(http.MethodPost, "/api/admin/impersonate/"+target, janeTok, nil), http.StatusForbidden, "forbidden")
			want(t, "a moderator impersonating", e.do(http.MethodPost, "/api/admin/impersonate/"+target, modTok, nil), http.StatusForbidden, "forbidden")
		}
		want(t, "anonymous", e.do(http.MethodPost, "/api/admin/impersonate/"+jane.UUID, "", nil), http.StatusUnauthorized, "")

		// An ordinary moderator can be impersonated; one with admin
		// rights cannot.
		e.impersonate(adminTok, mod.UUID)
		policy.Set(usermgmt.RoleModerator, "admin", "audit", usermgmt.Allow)
		want(t, "a moderator with admin rights", e.do(http.MethodPost, "/api/admin/impersonate/"+mod.UUID, adminTok, nil), http.StatusForbidden, "cannot_impersonate_admin")

		// An impersonation cannot start another, nor be stopped by
		// another session.
		tok := e.impersonate(adminTok, jane.UUID)
		want(t, "nested", e.do(http.MethodPost, "/api/admin/impersonate/"+mod.UUID, tok, nil), http.StatusForbidden, "impersonation_forbidden")
		want(t, "stop without impersonating", e.do(http.MethodPost, "/api/admin/impersonate/stop", janeTok, nil), http.StatusConflict, "not_impersonating")
		want(t, "stop by the admin's own token", e.do(http.MethodPost, "/api/admin/impersonate/stop", adminTok, nil), http.StatusConflict, "not_impersonating")

		// An inactive user is not impersonated.
		if _, err := e.m.Ban(context.Background(), mod.UUID, "spam"); err != nil {
			t.Fatal(err)
		}
		policy.Set(usermgmt.RoleModerator, "admin", "audit", usermgmt.Deny)
		want(t, "an inactive user", e.do(http.MethodPost, "/api/admin/impersonate/"+mod.UUID, adminTok, nil), http.StatusBadRequest, "inactive_user")
	})
}

func TestImpersonationRefusesTakeover(t *testing.T) {
	databases(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		admin, adminTok := e.user("rootadmin", usermgmt.RoleAdmin)
		jane, _ := e.user("janedoe")
		tok := e.impersonate(adminTok, jane.UUID)

		refused := []struct {
			what, method, path string
			body               any
		}{
			{"password", http.MethodPatch, "/api/auth/password", map[string]string{"old_password": password, "new_password": "Another-good-pw-7", "confirm_password": "Another-good-pw-7"}},
			{"password (reference path)", http.MethodPatch, "/api/auth/password/reset", map[string]string{"old_password": password, "new_password": "Another-good-pw-7", "confirm_password": "Another-good-pw-7"}},
			{"reset mail", http.MethodGet, "/api/auth/password/reset", nil},
			{"email", http.MethodPatch, "/api/user/" + jane.UUID, map[string]string{"email": "mallory@example.com"}},
			{"password by patch", http.MethodPatch, "/api/user/" + jane.UUID, map[string]string{"password": "Another-good-pw-7"}},
			{"otp setup", http.MethodGet, "/api/auth/OTP/setup", nil},
			{"otp qr", http.MethodGet, "/api/auth/QR", nil},
			{"otp email code", http.MethodPost, "/api/auth/OTP/email/send", nil},
			{"otp method", http.MethodPatch, "/api/auth/OTP/authenticator?otp_code=123456", nil},
			{"deletion", http.MethodDelete, "/api/user/" + jane.UUID, nil},
		}
		for _, r := range refused {
			want(t, r.what, e.do(r.method, r.path, tok, r.body), http.StatusForbidden, "impersonation_forbidden")
		}
		u, err := e.m.User(context.Background(), jane.UUID)
		if err != nil || u.Email != "janedoe@example.com" || u.OTPSecret != "" {
			t.Fatalf("after the refusals: %+v, %v", u, err)
		}
		if _, err := e.m.Login(context.Background(), "janedoe", password); err != nil {
			t.Fatalf("the password changed: %v", err)
		}

		// What the user may do, the impersonation may: and the audit
		// entry records both.
		want(t, "display name", e.do(http.MethodPatch, "/api/user/"+jane.UUID, tok, map[string]string{"display_name": "JaneDoe"}), http.StatusOK, "")
		es, err := e.m.Store().Audit(context.Background(), usermgmt.AuditQuery{SubjectUUID: jane.UUID, Actions: []string{usermgmt.AuditUserUpdated}})
		if err != nil || len(es) != 1 {
			t.Fatalf("audit: %v, %v", es, err)
		}
		if es[0].ActorUUID != jane.UUID || es[0].ImpersonatorUUID != admin.UUID || es[0].Detail != "display_name" {
			t.Errorf("audit entry %+v, want actor %s impersonator %s detail display_name", es[0], jane.UUID, admin.UUID)
		}
		// The start is audited with the admin as actor, the user as subject.
		logins, err := e.m.Store().Audit(context.Background(), usermgmt.AuditQuery{SubjectUUID: jane.UUID, ActorUUID: admin.UUID, Actions: []string{usermgmt.AuditLogin}})
		if err != nil || len(logins) != 1 || logins[0].Detail != "method=impersonation" || logins[0].ImpersonatorUUID != admin.UUID {
			t.Errorf("start entry: %+v, %v", logins, err)
		}
		// The audit route shows the impersonator.
		a := e.do(http.MethodGet, "/api/admin/audit?subject="+jane.UUID, adminTok, nil)
		want(t, "audit route", a, http.StatusOK, "")
		var page struct {
			Entries []map[string]any `json:"entries"`
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			t.Fatal(err)
		}
		marked := 0
		for _, en := range page.Entries {
			if en["impersonator_uuid"] == admin.UUID {
				marked++
			} else if _, ok := en["impersonator_uuid"]; ok {
				t.Errorf("entry %v", en)
			}
		}
		if marked < 2 {
			t.Errorf("audit route: %d entries name the impersonator: %s", marked, a.body)
		}
	})
}

func TestImpersonationStop(t *testing.T) {
	databases(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		admin, adminTok := e.user("rootadmin", usermgmt.RoleAdmin)
		jane, janeTok := e.user("janedoe")
		tok := e.impersonate(adminTok, jane.UUID)

		want(t, "stop", e.do(http.MethodPost, "/api/admin/impersonate/stop", tok, nil), http.StatusNoContent, "")
		want(t, "after stop", e.do(http.MethodGet, "/api/user/me", tok, nil), http.StatusUnauthorized, "")
		want(t, "stop again", e.do(http.MethodPost, "/api/admin/impersonate/stop", tok, nil), http.StatusUnauthorized, "")
		// The user's own session and the admin's live on.
		want(t, "the user's session", e.do(http.MethodGet, "/api/user/me", janeTok, nil), http.StatusOK, "")
		want(t, "the admin's session", e.do(http.MethodGet, "/api/user/me", adminTok, nil), http.StatusOK, "")
		es, err := e.m.Store().Audit(context.Background(), usermgmt.AuditQuery{SubjectUUID: jane.UUID, Actions: []string{impersonate.AuditStopped}})
		if err != nil || len(es) != 1 || es[0].ActorUUID != admin.UUID || es[0].ImpersonatorUUID != admin.UUID {
			t.Fatalf("stop entry: %+v, %v", es, err)
		}

		// An impersonation ends when its admin is banned.
		tok = e.impersonate(adminTok, jane.UUID)
		if _, err := e.m.Ban(context.Background(), admin.UUID, "left"); err != nil {
			t.Fatal(err)
		}
		want(t, "admin banned", e.do(http.MethodGet, "/api/user/me", tok, nil), http.StatusUnauthorized, "")
	})
}

func TestOptions(t *testing.T) {
	st, err := anydb.Open(context.Background(), "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BaseURL: "https://app.example.com", BcryptCost: 4, DataDir: t.TempDir()}
	for _, d := range []time.Duration{2 * time.Hour, -time.Minute, time.Millisecond} {
		if m, err := usermgmt.New(cfg, usermgmt.WithFeature(impersonate.New(impersonate.Options{Lifetime: d}))); err == nil {
			_ = m.Close()
			t.Errorf("Lifetime %v accepted", d)
		}
	}
	f := impersonate.New(impersonate.Options{Lifetime: 10 * time.Minute})
	m, err := usermgmt.New(cfg, usermgmt.WithFeature(f))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	admin, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "rootadmin", Email: "root@example.com", Password: password, Roles: []string{usermgmt.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	jane, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "janedoe", Email: "jane@example.com", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := f.Start(ctx, admin, jane.UUID)
	if err != nil || tk.ExpiresIn != 600 || tk.RefreshToken != "" {
		t.Fatalf("Start: %+v, %v", tk, err)
	}
	// The Go API refuses as HTTP does.
	if _, err := f.Start(ctx, jane, admin.UUID); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("a user starting: %v", err)
	}
	p, err := m.Authenticate(ctx, tk.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	ictx := usermgmt.ContextWithCaller(ctx, p)
	if usermgmt.Impersonator(ictx) != admin.UUID || usermgmt.Impersonator(ctx) != "" {
		t.Errorf("Impersonator: %q, %q", usermgmt.Impersonator(ictx), usermgmt.Impersonator(ctx))
	}
	if _, err := m.As(p.User()).UpdateUser(ictx, jane.UUID, usermgmt.UserPatch{Email: ptr("x@example.com")}); !errors.Is(err, usermgmt.ErrImpersonated) {
		t.Errorf("UpdateUser email while impersonated: %v", err)
	}
	if err := m.ChangePassword(ctx, p, password, "Another-good-pw-7", "Another-good-pw-7"); !errors.Is(err, usermgmt.ErrImpersonated) {
		t.Errorf("ChangePassword of an impersonated principal: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestPagesBanner: the pages never open an impersonation, but a page
// session that is one (a host put its token in the session cookie) shows
// the banner, and the refusals hold there too.
func TestPagesBanner(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:", nil)
	_, adminTok := e.user("rootadmin", usermgmt.RoleAdmin)
	jane, janeTok := e.user("janedoe")
	tok := e.impersonate(adminTok, jane.UUID)
	page := func(token string) string {
		r := httptest.NewRequest(http.MethodGet, "/login", nil)
		r.AddCookie(&http.Cookie{Name: httpadapter.SessionCookie, Value: token})
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /login: %d %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	if b := page(tok); !strings.Contains(b, `id="impersonation"`) || !strings.Contains(b, "janedoe") {
		t.Errorf("the impersonated page session shows no banner:\n%s", b)
	}
	if b := page(janeTok); strings.Contains(b, `id="impersonation"`) {
		t.Errorf("the user's own page session shows the banner:\n%s", b)
	}
}

// TestOpenAPI: the routes are in the document, with their answers.
func TestOpenAPI(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:", nil)
	a := e.do(http.MethodGet, "/openapi.json", "", nil)
	want(t, "openapi.json", a, http.StatusOK, "")
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(a.body, &doc); err != nil {
		t.Fatal(err)
	}
	for path, codes := range map[string][]string{
		"/api/admin/impersonate/{uuid}": {"200", "400", "401", "403", "404", "422", "429"},
		"/api/admin/impersonate/stop":   {"204", "401", "409", "429"},
	} {
		op, ok := doc.Paths[path]["post"]
		if !ok {
			t.Errorf("no POST %s", path)
			continue
		}
		for _, c := range codes {
			if _, ok := op.Responses[c]; !ok {
				t.Errorf("POST %s: no %s answer", path, c)
			}
		}
	}
	if _, ok := doc.Components.Schemas["ImpersonationToken"]; !ok {
		t.Error("no ImpersonationToken schema")
	}
}

// TestHostRoute: the host's own routes behind RequireAuth see the
// impersonation, and the Manager calls they make apply its rules.
func TestHostRoute(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:", nil)
	admin, adminTok := e.user("rootadmin", usermgmt.RoleAdmin)
	jane, janeTok := e.user("janedoe")
	tok := e.impersonate(adminTok, jane.UUID)
	host := httpadapter.RequireAuth(e.m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpadapter.CurrentPrincipal(r.Context())
		err := e.m.DeleteUser(r.Context(), p.User().UUID)
		if usermgmt.Impersonator(r.Context()) != p.Impersonator || errors.Is(err, usermgmt.ErrImpersonated) != (p.Impersonator != "") {
			t.Errorf("impersonator %q in the context, %q in the principal; DeleteUser: %v", usermgmt.Impersonator(r.Context()), p.Impersonator, err)
		}
		_, _ = w.Write([]byte(p.Impersonator))
	}))
	call := func(token string) (int, string) {
		r := httptest.NewRequest(http.MethodGet, "/app", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		host.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	if code, body := call(tok); code != http.StatusOK || body != admin.UUID {
		t.Errorf("host route, impersonation: %d %q, want %q", code, body, admin.UUID)
	}
	// The user's own token: no impersonator, and the deletion goes through.
	if code, body := call(janeTok); code != http.StatusOK || body != "" {
		t.Errorf("host route, own token: %d %q", code, body)
	}
	if _, err := e.m.User(context.Background(), jane.UUID); !errors.Is(err, usermgmt.ErrUserNotFound) {
		t.Errorf("the user's own deletion: %v", err)
	}
}
