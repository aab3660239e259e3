package httpadapter_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

const newPassword = "N3wPassw0rd!"

func TestForgotAndResetPassword(t *testing.T) {
	eachBackendMail(t, nil, func(t *testing.T, e *secEnv) {
		a := e.register("forgetful")
		e.nextMail() // verification
		other := e.login("forgetful")

		// The same answer whether or not the account exists; only a real
		// account gets a mail, and nothing is deactivated.
		requests := []request{
			{method: "POST", path: "/api/auth/forgot-password/request", form: url.Values{"username": {"no_such_user"}}},
			{method: "POST", path: "/api/auth/forgot-password/request", json: map[string]string{"email": "ghost@example.com"}},
			{method: "GET", path: "/api/auth/forgot-password/request?username=forgetful&email=wrong@example.com"},
		}
		var answer string
		for i, q := range requests {
			r := e.do(q)
			r.wantStatus(t, 200)
			if i > 0 && string(r.body) != answer {
				t.Fatalf("answers differ: %q vs %q", r.body, answer)
			}
			answer = string(r.body)
		}
		e.noMail()
		r := e.do(request{method: "GET", path: "/api/auth/forgot-password/request?username=forgetful&email=" + url.QueryEscape(a.email)})
		r.wantStatus(t, 200)
		if string(r.body) != answer {
			t.Fatalf("answer for a real account differs: %q", r.body)
		}
		_, first := mailToken(t, e.nextMail())
		e.do(request{method: "POST", path: "/api/auth/forgot-password/request", json: map[string]string{"username": "forgetful"}}).wantStatus(t, 200)
		msg := e.nextMail()
		link, token := mailToken(t, msg)
		if !strings.HasPrefix(link, "https://app.example.com/forgot-password/reset?token=") || !strings.Contains(msg.Subject, "Reset your password") {
			t.Fatalf("reset mail %q %q", msg.Subject, link)
		}
		e.whoami(a.AccessToken) // still active, still logged in

		// The first link was voided by the second.
		e.do(request{method: "POST", path: "/api/auth/forgot-password/reset", form: url.Values{"token": {first}, "new_password": {newPassword}, "confirm_password": {newPassword}}}).wantError(t, 401, "invalid_token")
		// A refused password leaves the token usable.
		e.do(request{method: "POST", path: "/api/auth/forgot-password/reset", json: map[string]string{"token": token, "new_password": "short", "confirm_password": "short"}}).wantError(t, 400, "weak_password")
		e.do(request{method: "POST", path: "/api/auth/forgot-password/reset", json: map[string]string{"token": token, "new_password": newPassword, "confirm_password": newPassword + "x"}}).wantError(t, 400, "password_mismatch")
		e.do(request{method: "POST", path: "/api/auth/forgot-password/reset", json: map[string]string{"token": token, "new_password": newPassword, "confirm_password": newPassword}}).wantStatus(t, 200)
		if msg := e.nextMail(); !strings.Contains(msg.Subject, "password was changed") {
			t.Fatalf("notice %q", msg.Subject)
		}
		// Every session is revoked; the old password is gone.
		e.do(request{method: "GET", path: "/api/auth/token/validate", token: a.AccessToken}).wantError(t, 401, "session_revoked")
		e.do(request{method: "GET", path: "/api/auth/token/validate", token: other.AccessToken}).wantError(t, 401, "session_revoked")
		e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"forgetful"}, "password": {password}}}).wantError(t, 401, "invalid_credentials")
		e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"forgetful"}, "password": {newPassword}}}).tokens(t)
		// Single use.
		e.do(request{method: "POST", path: "/api/auth/forgot-password/reset", json: map[string]string{"token": token, "new_password": password, "confirm_password": password}}).wantError(t, 401, "invalid_token")

		// Valid 30 minutes; the reference's header carries the token too.
		e.do(request{method: "POST", path: "/api/auth/forgot-password/request", form: url.Values{"email": {a.email}}}).wantStatus(t, 200)
		_, late := mailToken(t, e.nextMail())
		e.clock.Advance(30*time.Minute + time.Second)
		e.do(request{method: "POST", path: "/api/auth/forgot-password/reset", form: url.Values{"new_password": {password}, "confirm_password": {password}},
			header: map[string]string{"authorization-header": "bearer " + late}}).wantError(t, 401, "invalid_token")
		e.do(request{method: "POST", path: "/api/auth/forgot-password/request"}).wantError(t, 422, "invalid_request")
	})
}

func TestChangePassword(t *testing.T) {
	eachBackendMail(t, nil, func(t *testing.T, e *secEnv) {
		a := e.register("changer")
		e.nextMail()
		other := e.login("changer")
		body := func(old, pw, confirm string) url.Values {
			return url.Values{"old_password": {old}, "new_password": {pw}, "confirm_password": {confirm}}
		}
		e.do(request{method: "PATCH", path: "/api/auth/password", token: a.AccessToken, form: body("wrong-Passw0rd", newPassword, newPassword)}).wantError(t, 400, "invalid_password")
		e.do(request{method: "PATCH", path: "/api/auth/password", token: a.AccessToken, form: body(password, password, password)}).wantError(t, 400, "same_password")
		e.do(request{method: "PATCH", path: "/api/auth/password", token: a.AccessToken, form: body(password, newPassword, "other")}).wantError(t, 400, "password_mismatch")
		e.do(request{method: "PATCH", path: "/api/auth/password", form: body(password, newPassword, newPassword)}).wantError(t, 401, "not_authenticated")
		r := e.do(request{method: "PATCH", path: "/api/auth/password", token: a.AccessToken, form: body(password, newPassword, newPassword)})
		r.wantStatus(t, 200)
		if msg := e.nextMail(); !strings.Contains(msg.Subject, "password was changed") || msg.To[0] != a.email {
			t.Fatalf("notice %q to %v", msg.Subject, msg.To)
		}
		// The caller's session lives on, the others end.
		e.whoami(a.AccessToken)
		e.do(request{method: "GET", path: "/api/auth/token/validate", token: other.AccessToken}).wantError(t, 401, "session_revoked")

		// The reference's path is an alias with the same body.
		e.do(request{method: "PATCH", path: "/api/auth/password/reset", token: a.AccessToken, json: map[string]string{
			"old_password": newPassword, "new_password": password, "confirm_password": password}}).wantStatus(t, 200)
		e.nextMail()
		// GET /auth/password/reset mails the caller a reset link.
		e.do(request{method: "GET", path: "/api/auth/password/reset", token: a.AccessToken}).wantStatus(t, 200)
		_, token := mailToken(t, e.nextMail())
		e.do(request{method: "POST", path: "/api/auth/forgot-password/reset", form: url.Values{"token": {token}, "new_password": {newPassword}, "confirm_password": {newPassword}}}).wantStatus(t, 200)
	})
}

// TestResetPasswordEndsLockout: an account locked by failed logins answers
// like a wrong password even with the right one, until a password reset
// (which proves the address) unlocks it.
func TestResetPasswordEndsLockout(t *testing.T) {
	eachBackendMail(t, nil, func(t *testing.T, e *secEnv) {
		a := e.register("locked_out")
		e.nextMail() // verification
		for range 5 {
			e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"locked_out"}, "password": {"Wrong-pass-1"}}}).wantError(t, 401, "invalid_credentials")
		}
		e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"locked_out"}, "password": {password}}}).wantError(t, 401, "invalid_credentials")

		e.do(request{method: "POST", path: "/api/auth/forgot-password/request", json: map[string]string{"email": a.email}}).wantStatus(t, 200)
		_, token := mailToken(t, e.nextMail())
		e.do(request{method: "POST", path: "/api/auth/forgot-password/reset", json: map[string]string{"token": token, "new_password": newPassword, "confirm_password": newPassword}}).wantStatus(t, 200)
		e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"locked_out"}, "password": {newPassword}}}).tokens(t)
	})
}

// TestResetLinksOutlivedByTheAccount: a reset link stops working when the
// address changes, when the password is set otherwise, and for a banned
// account (found in review).
func TestResetLinksOutlivedByTheAccount(t *testing.T) {
	eachBackendMail(t, nil, func(t *testing.T, e *secEnv) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		a := e.register("moving_on")
		e.nextMail() // verification
		resetLink := func() string {
			t.Helper()
			e.do(request{method: "POST", path: "/api/auth/forgot-password/request", json: map[string]string{"username": "moving_on"}}).wantStatus(t, 200)
			_, token := mailToken(t, e.nextMail())
			return token
		}
		reset := func(token string) result {
			return e.do(request{method: "POST", path: "/api/auth/forgot-password/reset", json: map[string]string{
				"token": token, "new_password": newPassword, "confirm_password": newPassword}})
		}

		// A new address voids the link mailed to the old one.
		token := resetLink()
		e.do(request{method: "PATCH", path: "/api/user/" + a.uuid, token: a.AccessToken, json: map[string]any{"email": "new.home@example.com"}}).wantStatus(t, 200)
		e.nextMail() // verification of the new address
		reset(token).wantError(t, 401, "invalid_token")

		// A password set by an admin voids it too.
		token = resetLink()
		e.do(request{method: "PATCH", path: "/api/user/" + a.uuid, token: admin.AccessToken, json: map[string]any{"password": "An0ther-Passw0rd!"}}).wantStatus(t, 200)
		reset(token).wantError(t, 401, "invalid_token")

		// A link mailed before a ban is void; one asked for while the
		// account is banned does not reopen it.
		token = resetLink()
		e.do(request{method: "POST", path: "/api/admin/ban/" + a.uuid, token: admin.AccessToken, json: map[string]string{"reason": "spam"}}).wantStatus(t, 200)
		reset(token).wantError(t, 401, "invalid_token")
		reset(resetLink()).wantError(t, 400, "inactive_user")
		e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"moving_on"}, "password": {newPassword}}}).wantError(t, 401, "invalid_credentials")
	})
}

// TestChangePasswordCountsWrongPasswords: wrong old passwords count as
// failed logins, so a stolen access token cannot guess the password faster
// than a login could (found in review).
func TestChangePasswordCountsWrongPasswords(t *testing.T) {
	eachBackendMail(t, nil, func(t *testing.T, e *secEnv) {
		a := e.register("guessed_at")
		e.nextMail()
		body := func(old string) url.Values {
			return url.Values{"old_password": {old}, "new_password": {newPassword}, "confirm_password": {newPassword}}
		}
		for range 5 {
			e.do(request{method: "PATCH", path: "/api/auth/password", token: a.AccessToken, form: body("Wrong-Passw0rd!")}).wantError(t, 400, "invalid_password")
		}
		e.do(request{method: "PATCH", path: "/api/auth/password", token: a.AccessToken, form: body(password)}).wantError(t, 429, "rate_limited")
		e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"guessed_at"}, "password": {password}}}).wantError(t, 401, "invalid_credentials")
	})
}
