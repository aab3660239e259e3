package apikey_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey"
)

var keyShape = regexp.MustCompile(`^um_[A-Za-z0-9_-]{43}$`)

// TestKeyLifecycle creates a key, uses it both ways, lists it and revokes
// it, on each database.
func TestKeyLifecycle(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			e := newEnv(t, db.dsn(t), true, apikey.Config{})
			u, tok := e.user("jane_doe")
			a := e.bearer(http.MethodPost, "/api/user/me/api-keys", tok, map[string]any{"name": "ci", "scopes": []string{"user:read", "file:read"}, "expires_in": 3600})
			if a.status != http.StatusCreated {
				t.Fatalf("create: %d %s", a.status, a.body)
			}
			o := a.object(t)
			key, id := o["key"].(string), o["id"].(string)
			if !keyShape.MatchString(key) || len(key) != apikey.KeyLen {
				t.Fatalf("key %q: want um_ and 43 base64url characters", key)
			}
			if o["prefix"] != key[:apikey.PrefixLen] || o["name"] != "ci" || o["last_used_at"] != nil || o["expires_at"] == nil {
				t.Errorf("created: %s", a.body)
			}

			for _, h := range []struct{ name, value string }{{"Authorization", "Bearer " + key}, {"X-API-Key", key}, {"Authorization", "bearer  " + key}} {
				me := e.do(http.MethodGet, "/api/user/me", h.name, h.value, nil)
				if me.status != http.StatusOK || me.object(t)["uuid"] != u.UUID {
					t.Errorf("GET /user/me with %s %q: %d %s", h.name, h.value[:10], me.status, me.body)
				}
			}
			if v := e.do(http.MethodGet, "/api/auth/token/validate", "X-API-Key", key, nil); v.status != http.StatusOK {
				t.Errorf("validate with a key: %d %s", v.status, v.body)
			}

			list := e.bearer(http.MethodGet, "/api/user/me/api-keys", tok, nil)
			if list.status != http.StatusOK || bytes.Contains(list.body, []byte(key)) || bytes.Contains(list.body, []byte(key[apikey.PrefixLen:])) {
				t.Fatalf("list: %d %s (must not carry the secret)", list.status, list.body)
			}
			if !bytes.Contains(list.body, []byte(`"prefix":"`+key[:apikey.PrefixLen]+`"`)) || !bytes.Contains(list.body, []byte(`"last_used_ip":"192.0.2.1"`)) ||
				bytes.Contains(list.body, []byte(`"last_used_at":null`)) {
				t.Errorf("list after use: %s", list.body)
			}
			if n := len(e.audits(u.UUID, apikey.AuditCreated)); n != 1 {
				t.Errorf("%d %s entries, want 1", n, apikey.AuditCreated)
			}
			used := e.audits(u.UUID, apikey.AuditUsed)
			if len(used) != 1 || used[0].IP != "192.0.2.1" || used[0].Detail != "id="+id {
				t.Errorf("use audited as %+v, want once with the IP (the write is throttled)", used)
			}

			if d := e.bearer(http.MethodDelete, "/api/user/me/api-keys/"+id, tok, nil); d.status != http.StatusNoContent {
				t.Fatalf("revoke: %d %s", d.status, d.body)
			}
			if me := e.bearer(http.MethodGet, "/api/user/me", key, nil); me.status != http.StatusUnauthorized || me.code() != "invalid_api_key" {
				t.Errorf("revoked key: %d %s, want 401 invalid_api_key at once", me.status, me.body)
			}
			if d := e.bearer(http.MethodDelete, "/api/user/me/api-keys/"+id, tok, nil); d.status != http.StatusNotFound || d.code() != "api_key_not_found" {
				t.Errorf("revoke again: %d %s", d.status, d.body)
			}
			if n := len(e.audits(u.UUID, apikey.AuditRevoked)); n != 1 {
				t.Errorf("%d %s entries, want 1", n, apikey.AuditRevoked)
			}

			// Expiry.
			short, _ := e.create(tok, map[string]any{"name": "short", "scopes": []string{}, "expires_in": 60})
			if me := e.bearer(http.MethodGet, "/api/user/me", short, nil); me.status != http.StatusOK {
				t.Fatalf("fresh key: %d %s", me.status, me.body)
			}
			e.clock.Add(61 * time.Second)
			if me := e.bearer(http.MethodGet, "/api/user/me", short, nil); me.status != http.StatusUnauthorized || me.code() != "invalid_api_key" {
				t.Errorf("expired key: %d %s", me.status, me.body)
			}
		})
	}
}

// TestBadKeys: forged, truncated, padded and malformed keys are a clean
// 401, whichever header carries them.
func TestBadKeys(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{})
	_, tok := e.user("jane_doe")
	key, _ := e.create(tok, map[string]any{"name": "ci", "scopes": []string{}})
	flip := []byte(key)
	if flip[20] == 'A' {
		flip[20] = 'B'
	} else {
		flip[20] = 'A'
	}
	otherSecret := key[:apikey.PrefixLen] + strings.Repeat("A", apikey.KeyLen-apikey.PrefixLen-1) + "A"
	for name, bad := range map[string]string{
		"forged (same prefix)": otherSecret,
		"one character off":    string(flip),
		"truncated":            key[:len(key)-1],
		"too long":             key + "A",
		"prefix only":          key[:apikey.PrefixLen],
		"scheme only":          "um_",
		"not base64url":        "um_" + strings.Repeat("+", 43),
		"non-canonical tail":   key[:len(key)-1] + "B",
		"unknown prefix":       "um_" + strings.Repeat("Z", 42) + "A",
		"nul bytes":            "um_" + strings.Repeat("\x00", 43),
	} {
		if name == "non-canonical tail" && strings.HasSuffix(key, "B") {
			continue
		}
		for _, h := range []string{"Authorization", "X-API-Key"} {
			v := bad
			if h == "Authorization" {
				v = "Bearer " + bad
			}
			a := e.do(http.MethodGet, "/api/user/me", h, v, nil)
			if a.status != http.StatusUnauthorized || a.code() != "invalid_api_key" {
				t.Errorf("%s in %s: %d %s, want 401 invalid_api_key", name, h, a.status, a.body)
			}
		}
	}
	if me := e.bearer(http.MethodGet, "/api/user/me", key, nil); me.status != http.StatusOK {
		t.Errorf("the good key after the bad ones: %d %s", me.status, me.body)
	}
}

// TestCreateRefusesBadInput: unknown scopes, names, expiries and bodies
// are clean 4xx answers that store nothing.
func TestCreateRefusesBadInput(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{})
	u, tok := e.user("jane_doe")
	for _, c := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"unknown scope", map[string]any{"name": "x", "scopes": []string{"user:read", "user:fly"}}, 422, "api_key_scope_unknown"},
		{"scope of API keys", map[string]any{"name": "x", "scopes": []string{"api_key:create"}}, 422, "api_key_scope_unknown"},
		{"scope without action", map[string]any{"name": "x", "scopes": []string{"user"}}, 422, "api_key_scope_unknown"},
		{"too many scopes", map[string]any{"name": "x", "scopes": make([]string, 65)}, 422, "api_key_scope_unknown"},
		{"no scopes field", map[string]any{"name": "x"}, 422, "invalid_request"},
		{"scopes not an array", map[string]any{"name": "x", "scopes": "user:read"}, 422, "invalid_request"},
		{"no name", map[string]any{"scopes": []string{}}, 422, "invalid_request"},
		{"empty name", map[string]any{"name": " ", "scopes": []string{}}, 422, "api_key_name_invalid"},
		{"long name", map[string]any{"name": strings.Repeat("n", 65), "scopes": []string{}}, 422, "api_key_name_invalid"},
		{"control in name", map[string]any{"name": "a\u0007b", "scopes": []string{}}, 422, "api_key_name_invalid"},
		{"zero expiry", map[string]any{"name": "x", "scopes": []string{}, "expires_in": 0}, 422, "api_key_expiry_invalid"},
		{"negative expiry", map[string]any{"name": "x", "scopes": []string{}, "expires_in": -5}, 422, "api_key_expiry_invalid"},
		{"huge expiry", map[string]any{"name": "x", "scopes": []string{}, "expires_in": int64(1) << 62}, 422, "api_key_expiry_invalid"},
		{"fractional expiry", `{"name":"x","scopes":[],"expires_in":1.5}`, 422, "invalid_request"},
		{"not JSON", `name=x`, 422, "invalid_request"},
		{"array body", `[]`, 422, "invalid_request"},
		{"empty body", ``, 422, "invalid_request"},
	} {
		a := e.bearer(http.MethodPost, "/api/user/me/api-keys", tok, c.body)
		if c.body == `` {
			a = e.bearer(http.MethodPost, "/api/user/me/api-keys", tok, nil)
		}
		if a.status != c.status || a.code() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, a.status, a.body, c.status, c.code)
		}
	}
	r := e.do(http.MethodPost, "/api/user/me/api-keys", "Authorization", "Bearer "+tok, nil)
	if r.status != 422 {
		t.Errorf("no body: %d", r.status)
	}
	ks, err := e.keys.List(context.Background(), u, u.UUID)
	if err != nil || len(ks) != 0 {
		t.Errorf("after refusals: %d keys, %v; want none", len(ks), err)
	}
	if n := len(e.audits(u.UUID, apikey.AuditCreated)); n != 0 {
		t.Errorf("%d creations audited, want none", n)
	}
}

// TestScopesNarrowTheOwner: a key does what both its scopes and its
// owner's roles allow, nothing more.
func TestScopesNarrowTheOwner(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{})
	admin, adminTok := e.user("the_admin", usermgmt.RoleAdmin)
	other, _ := e.user("other_user")
	_, tok := e.user("plain_user")
	details := "/api/user/" + other.UUID + "/details"

	none, _ := e.create(tok, map[string]any{"name": "none", "scopes": []string{}})
	if a := e.bearer(http.MethodGet, details, none, nil); a.status != http.StatusForbidden || a.code() != "insufficient_scope" {
		t.Errorf("details without user:read: %d %s", a.status, a.body)
	}
	reader, _ := e.create(tok, map[string]any{"name": "reader", "scopes": []string{"user:read"}})
	if a := e.bearer(http.MethodGet, details, reader, nil); a.status != http.StatusOK {
		t.Errorf("details with user:read: %d %s", a.status, a.body)
	}
	if a := e.bearer(http.MethodGet, "/api/user/count", reader, nil); a.status != http.StatusForbidden || a.code() != "forbidden" {
		t.Errorf("a plain user's key counting users (the owner may not): %d %s", a.status, a.body)
	}
	// A scope the owner's roles lack grants nothing.
	deleter, _ := e.create(tok, map[string]any{"name": "deleter", "scopes": []string{"user:delete"}})
	if a := e.bearer(http.MethodDelete, "/api/user/"+other.UUID, deleter, nil); a.status != http.StatusForbidden {
		t.Errorf("a plain user's key deleting another: %d %s", a.status, a.body)
	}
	// An admin's key with admin:ban bans; without it, it does not.
	banKey, _ := e.create(adminTok, map[string]any{"name": "ban", "scopes": []string{"admin:ban"}})
	readKey, _ := e.create(adminTok, map[string]any{"name": "read", "scopes": []string{"user:read"}})
	if a := e.bearer(http.MethodPost, "/api/admin/ban/"+other.UUID, readKey, map[string]any{"reason": "spam"}); a.status != http.StatusForbidden || a.code() != "insufficient_scope" {
		t.Errorf("ban without admin:ban: %d %s", a.status, a.body)
	}
	if a := e.bearer(http.MethodPost, "/api/admin/ban/"+other.UUID, banKey, map[string]any{"reason": "spam"}); a.status != http.StatusOK {
		t.Errorf("ban with admin:ban: %d %s", a.status, a.body)
	}
	if es := e.audits(other.UUID, usermgmt.AuditBan); len(es) != 1 || es[0].ActorUUID != admin.UUID {
		t.Errorf("the ban is audited as the key's owner: %+v", es)
	}
}

// TestKeysCannotManageTheAccount: passwords, second factors, sessions and
// API keys need a signed-in session.
func TestKeysCannotManageTheAccount(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{})
	u, tok := e.user("jane_doe")
	all := e.keys.Scopes()
	key, id := e.create(tok, map[string]any{"name": "all", "scopes": all})
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/api/user/me/api-keys", map[string]any{"name": "more", "scopes": []string{}}},
		{http.MethodGet, "/api/user/me/api-keys", nil},
		{http.MethodDelete, "/api/user/me/api-keys/" + id, nil},
		{http.MethodGet, "/api/user/" + u.UUID + "/api-keys", nil},
		{http.MethodPatch, "/api/auth/password", map[string]any{"old_password": "Password-123!", "new_password": "Another-pass-456!", "confirm_password": "Another-pass-456!"}},
		{http.MethodGet, "/api/auth/password/reset", nil},
		{http.MethodGet, "/api/auth/sessions", nil},
		{http.MethodPost, "/api/auth/logout", nil},
		{http.MethodGet, "/api/auth/OTP/setup", nil},
		{http.MethodGet, "/api/auth/QR", nil},
		{http.MethodPatch, "/api/auth/OTP/none", map[string]any{"password": "Password-123!"}},
		{http.MethodPost, "/api/auth/OTP/email/send", nil},
		{http.MethodGet, "/api/user/me/export", nil},
		{http.MethodGet, "/api/oauth/github/link", nil},
		{http.MethodPost, "/api/oauth/github/unlink", nil},
	} {
		for _, h := range []string{"Authorization", "X-API-Key"} {
			v := key
			if h == "Authorization" {
				v = "Bearer " + key
			}
			a := e.do(c.method, c.path, h, v, c.body)
			if a.status != http.StatusForbidden || a.code() != "session_required" {
				t.Errorf("%s %s with a key in %s: %d %s, want 403 session_required", c.method, c.path, h, a.status, a.body)
			}
		}
	}
	// The Go API refuses the same on a key's context.
	p, err := e.m.Authenticate(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := usermgmt.ContextWithCaller(context.Background(), p)
	if _, err := e.keys.Create(ctx, u, u.UUID, apikey.NewKey{Name: "x"}); err != usermgmt.ErrSessionRequired {
		t.Errorf("Create on a key's context: %v", err)
	}
	if err := e.keys.Revoke(ctx, u, u.UUID, id); err != usermgmt.ErrSessionRequired {
		t.Errorf("Revoke on a key's context: %v", err)
	}
	if me := e.bearer(http.MethodGet, "/api/user/me", key, nil); me.status != http.StatusOK {
		t.Errorf("the key still works: %d %s", me.status, me.body)
	}
}

// TestAdminRoutes: an admin manages another's keys; a plain user cannot,
// and cannot tell whether the user exists.
func TestAdminRoutes(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{})
	admin, adminTok := e.user("the_admin", usermgmt.RoleAdmin)
	u, tok := e.user("jane_doe")
	base := "/api/user/" + u.UUID + "/api-keys"
	a := e.bearer(http.MethodPost, base, adminTok, map[string]any{"name": "for jane", "scopes": []string{"user:read"}})
	if a.status != http.StatusCreated {
		t.Fatalf("admin create: %d %s", a.status, a.body)
	}
	key, id := a.object(t)["key"].(string), a.object(t)["id"].(string)
	if me := e.bearer(http.MethodGet, "/api/user/me", key, nil); me.status != http.StatusOK || me.object(t)["uuid"] != u.UUID {
		t.Errorf("the admin-made key is jane's: %d %s", me.status, me.body)
	}
	if es := e.audits(u.UUID, apikey.AuditCreated); len(es) != 1 || es[0].ActorUUID != admin.UUID {
		t.Errorf("created audited as %+v, want the admin as actor", es)
	}
	if l := e.bearer(http.MethodGet, base, adminTok, nil); l.status != http.StatusOK || !bytes.Contains(l.body, []byte(id)) {
		t.Errorf("admin list: %d %s", l.status, l.body)
	}
	other, otherTok := e.user("other_user")
	for _, path := range []string{base, "/api/user/00000000-0000-4000-8000-000000000999/api-keys", "/api/user/not-a-uuid/api-keys"} {
		if l := e.bearer(http.MethodGet, path, otherTok, nil); l.status != http.StatusForbidden {
			t.Errorf("plain user GET %s: %d %s, want 403", path, l.status, l.body)
		}
	}
	if l := e.bearer(http.MethodGet, "/api/user/00000000-0000-4000-8000-000000000999/api-keys", adminTok, nil); l.status != http.StatusNotFound {
		t.Errorf("admin, unknown user: %d %s", l.status, l.body)
	}
	if d := e.bearer(http.MethodDelete, "/api/user/"+other.UUID+"/api-keys/"+id, adminTok, nil); d.status != http.StatusNotFound {
		t.Errorf("revoke jane's key under another user: %d %s", d.status, d.body)
	}
	if d := e.bearer(http.MethodDelete, base+"/"+id, tok, nil); d.status != http.StatusNoContent {
		t.Errorf("jane revokes through the admin path (her own): %d %s", d.status, d.body)
	}
}

// TestOwnerBannedOrDeleted: the keys of a banned or deleted owner stop
// working at once on this instance.
func TestOwnerBannedOrDeleted(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{})
	admin, _ := e.user("the_admin", usermgmt.RoleAdmin)
	u, tok := e.user("jane_doe")
	key, _ := e.create(tok, map[string]any{"name": "ci", "scopes": []string{}})
	if me := e.bearer(http.MethodGet, "/api/user/me", key, nil); me.status != http.StatusOK {
		t.Fatalf("%d %s", me.status, me.body)
	}
	ctx := context.Background()
	if _, err := e.m.As(admin).Ban(ctx, u.UUID, "spam"); err != nil {
		t.Fatal(err)
	}
	if me := e.bearer(http.MethodGet, "/api/user/me", key, nil); me.status != http.StatusUnauthorized {
		t.Errorf("banned owner: %d %s", me.status, me.body)
	}
	if _, err := e.m.As(admin).Unban(ctx, u.UUID, ""); err != nil {
		t.Fatal(err)
	}
	if me := e.bearer(http.MethodGet, "/api/user/me", key, nil); me.status != http.StatusOK {
		t.Errorf("unbanned owner: %d %s", me.status, me.body)
	}
	if err := e.m.DeleteUser(ctx, u.UUID); err != nil {
		t.Fatal(err)
	}
	if me := e.bearer(http.MethodGet, "/api/user/me", key, nil); me.status != http.StatusUnauthorized {
		t.Errorf("deleted owner: %d %s", me.status, me.body)
	}
}

// TestRateLimitedPerKey: each key has its own budget.
func TestRateLimitedPerKey(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{Rate: usermgmt.Rate{Limit: 3, Window: time.Hour}})
	_, tok := e.user("jane_doe")
	a, _ := e.create(tok, map[string]any{"name": "a", "scopes": []string{}})
	b, _ := e.create(tok, map[string]any{"name": "b", "scopes": []string{}})
	for i := range 3 {
		if me := e.bearer(http.MethodGet, "/api/user/me", a, nil); me.status != http.StatusOK {
			t.Fatalf("use %d: %d %s", i+1, me.status, me.body)
		}
	}
	me := e.bearer(http.MethodGet, "/api/user/me", a, nil)
	if me.status != http.StatusTooManyRequests || me.code() != "rate_limited" || me.header.Get("Retry-After") == "" {
		t.Errorf("fourth use: %d %s %v, want 429 with Retry-After", me.status, me.body, me.header)
	}
	if me := e.bearer(http.MethodGet, "/api/user/me", b, nil); me.status != http.StatusOK {
		t.Errorf("the other key: %d %s", me.status, me.body)
	}
	if me := e.bearer(http.MethodGet, "/api/user/me", tok, nil); me.status != http.StatusOK {
		t.Errorf("the session: %d %s", me.status, me.body)
	}
}

// TestLastUseThrottled: the last use is written and audited once per
// UsageInterval, not at every request.
func TestLastUseThrottled(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{})
	u, tok := e.user("jane_doe")
	key, _ := e.create(tok, map[string]any{"name": "ci", "scopes": []string{}})
	for range 5 {
		e.bearer(http.MethodGet, "/api/user/me", key, nil)
		e.clock.Add(10 * time.Second)
	}
	if n := len(e.audits(u.UUID, apikey.AuditUsed)); n != 1 {
		t.Errorf("%d uses audited in 50 s, want 1", n)
	}
	e.clock.Add(15 * time.Second)
	e.bearer(http.MethodGet, "/api/user/me", key, nil)
	if n := len(e.audits(u.UUID, apikey.AuditUsed)); n != 2 {
		t.Errorf("%d uses audited after a minute, want 2", n)
	}
	ks, err := e.keys.List(context.Background(), u, u.UUID)
	if err != nil || len(ks) != 1 || ks[0].LastUsedAt == nil || !ks[0].LastUsedAt.Equal(e.clock.Now().Truncate(time.Microsecond)) {
		t.Errorf("last use: %+v, %v", ks, err)
	}
}

// TestGoAPIRefusesKeyPrincipals: the Manager's own password, second-factor,
// session and provider-link calls refuse a key's principal or context.
func TestGoAPIRefusesKeyPrincipals(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{})
	_, tok := e.user("jane_doe")
	key, _ := e.create(tok, map[string]any{"name": "ci", "scopes": []string{}})
	ctx := context.Background()
	p, err := e.m.Authenticate(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.m.Logout(ctx, p); err != usermgmt.ErrSessionRequired {
		t.Errorf("Logout: %v", err)
	}
	if err := e.m.ChangePassword(ctx, p, "Password-123!", "Another-pass-456!", "Another-pass-456!"); err != usermgmt.ErrSessionRequired {
		t.Errorf("ChangePassword: %v", err)
	}
	if err := e.m.RequestPasswordReset(ctx, p); err != usermgmt.ErrSessionRequired {
		t.Errorf("RequestPasswordReset: %v", err)
	}
	kctx := usermgmt.ContextWithCaller(ctx, p)
	uuid := p.User().UUID
	if _, err := e.m.SetupOTP(kctx, uuid); err != usermgmt.ErrSessionRequired {
		t.Errorf("SetupOTP: %v", err)
	}
	if _, err := e.m.OTPQRCode(kctx, uuid); err != usermgmt.ErrSessionRequired {
		t.Errorf("OTPQRCode: %v", err)
	}
	if err := e.m.SendEmailOTP(kctx, uuid); err != usermgmt.ErrSessionRequired {
		t.Errorf("SendEmailOTP: %v", err)
	}
	if _, _, err := e.m.ChangeOTPMethod(kctx, uuid, "none", "", "Password-123!"); err != usermgmt.ErrSessionRequired {
		t.Errorf("ChangeOTPMethod: %v", err)
	}
	if _, err := e.m.As(p.User()).Sessions(kctx); err != usermgmt.ErrSessionRequired {
		t.Errorf("Sessions: %v", err)
	}
	if err := e.m.As(p.User()).RevokeSession(kctx, "00000000-0000-4000-8000-000000000001"); err != usermgmt.ErrSessionRequired {
		t.Errorf("RevokeSession: %v", err)
	}
	if _, err := e.m.As(p.User()).OAuthLinkTicket(kctx, "github", ""); err != usermgmt.ErrSessionRequired {
		t.Errorf("OAuthLinkTicket: %v", err)
	}
	if err := e.m.As(p.User()).UnlinkOAuth(kctx, "github"); err != usermgmt.ErrSessionRequired {
		t.Errorf("UnlinkOAuth: %v", err)
	}
	// A session's context is not refused.
	if _, err := e.m.As(p.User()).Sessions(ctx); err != nil {
		t.Errorf("Sessions on a session's context: %v", err)
	}
}

// TestParallelUseWritesOnce: parallel first uses record the use once.
func TestParallelUseWritesOnce(t *testing.T) {
	e := newEnv(t, "", true, apikey.Config{})
	u, tok := e.user("jane_doe")
	key, _ := e.create(tok, map[string]any{"name": "ci", "scopes": []string{}})
	done := make(chan int)
	for range 8 {
		go func() {
			r := httptest.NewRequest(http.MethodGet, "/api/user/me", nil)
			r.Header.Set("X-API-Key", key)
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, r)
			done <- rec.Code
		}()
	}
	for range 8 {
		if code := <-done; code != http.StatusOK {
			t.Errorf("parallel use: %d", code)
		}
	}
	if n := len(e.audits(u.UUID, apikey.AuditUsed)); n != 1 {
		t.Errorf("%d uses audited, want 1", n)
	}
}
