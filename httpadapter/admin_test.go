package httpadapter_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBanAndUnban(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		mod := e.user("mod_user", usermgmt.RoleModerator)
		jane := e.register("jane_doe")
		bob := e.register("bob_smith")
		carl := e.register("carl_jones")
		ban := func(target, token string, q request) result {
			q.method, q.path, q.token = "POST", "/api/admin/ban/"+target, token
			return e.do(q)
		}
		unban := func(target, token string) result {
			return e.do(request{method: "POST", path: "/api/admin/unban/" + target, token: token})
		}
		login := func(username, pw string) result {
			return e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {username}, "password": {pw}}})
		}
		reason := func(s string) request { return request{form: url.Values{"reason": {s}}} }

		// Refusals.
		ban(jane.uuid, admin.AccessToken, request{}).wantError(t, 422, "invalid_request")
		ban(jane.uuid, admin.AccessToken, request{json: map[string]any{"reason": 3}}).wantError(t, 422, "invalid_request")
		ban(admin.uuid, admin.AccessToken, reason("me")).wantError(t, 400, "cannot_ban_self")
		ban(jane.uuid, admin.AccessToken, reason(strings.Repeat("x", 300))).wantError(t, 400, "invalid_input")
		ban(jane.uuid, bob.AccessToken, reason("spam")).wantError(t, 403, "forbidden")
		ban(admin.uuid, mod.AccessToken, reason("spam")).wantError(t, 403, "forbidden")
		ban(jane.uuid, "", reason("spam")).wantError(t, 401, "not_authenticated")
		ban("00000000-0000-4000-8000-000000000000", admin.AccessToken, reason("spam")).wantError(t, 404, "user_not_found")
		ban("bad", admin.AccessToken, reason("spam")).wantError(t, 404, "user_not_found") // no such user can exist

		// An admin bans with a form.
		r := ban(jane.uuid, admin.AccessToken, reason("spamming the forum"))
		r.wantStatus(t, 200)
		if got, want := string(r.body), `{"Admin":"admin_user","Action":"Banned","User":"jane_doe","Reason":"spamming the forum"}`; got != want {
			t.Fatalf("ban = %s, want %s", got, want)
		}
		// The target's token dies at once; the reason shows only after a
		// correct password.
		e.do(request{method: "GET", path: "/api/user/me", token: jane.AccessToken}).wantError(t, 401, "session_revoked")
		sameResponse(t, login("jane_doe", "Wr0ng!pass"), login("nobody_at_all", "Wr0ng!pass"))
		detail := login("jane_doe", password).wantError(t, 400, "inactive_user")
		if !strings.Contains(detail, "spamming the forum") {
			t.Fatalf("inactive detail %q lacks the reason", detail)
		}

		// A moderator bans a plain user, with JSON, but cannot unban.
		r = ban(bob.uuid, mod.AccessToken, request{json: map[string]string{"reason": "rude"}})
		r.wantStatus(t, 200)
		if got := r.object(t); got["Admin"] != "mod_user" || got["Action"] != "Banned" || got["User"] != "bob_smith" || got["Reason"] != "rude" {
			t.Fatalf("ban = %s", r.body)
		}
		unban(bob.uuid, mod.AccessToken).wantError(t, 403, "forbidden")
		unban(bob.uuid, carl.AccessToken).wantError(t, 403, "forbidden")

		// An admin unbans; login works again.
		r = unban(jane.uuid, admin.AccessToken)
		r.wantStatus(t, 200)
		// Reason is always there, as in the reference: "" when none was given.
		if got, want := string(r.body), `{"Admin":"admin_user","Action":"Unbanned","User":"jane_doe","Reason":""}`; got != want {
			t.Fatalf("unban = %s, want %s", got, want)
		}
		login("jane_doe", password).tokens(t)
		r = e.do(request{method: "POST", path: "/api/admin/unban/" + bob.uuid, token: admin.AccessToken, form: url.Values{"reason": {"  appeal granted "}}})
		r.wantStatus(t, 200)
		if got, want := string(r.body), `{"Admin":"admin_user","Action":"Unbanned","User":"bob_smith","Reason":"appeal granted"}`; got != want {
			t.Fatalf("unban with a reason = %s, want %s", got, want)
		}
		r = e.do(request{method: "POST", path: "/api/admin/unban/" + carl.uuid, token: admin.AccessToken, json: map[string]string{"reason": "json reason"}})
		r.wantStatus(t, 200)
		if got := r.object(t)["Reason"]; got != "json reason" {
			t.Fatalf("unban with a JSON reason: Reason = %v", got)
		}
		unban("00000000-0000-4000-8000-000000000000", admin.AccessToken).wantError(t, 404, "user_not_found")
	})
}
