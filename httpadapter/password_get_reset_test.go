package httpadapter_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestForgotPasswordResetGET: the reference's clients reset with a GET that
// carries the form body and the token in the authorization-header header
// (seed-api.md 1.1 and 3.6); it works beside the POST, with the same rules
// (issue 15 item 12).
func TestForgotPasswordResetGET(t *testing.T) {
	eachBackendMail(t, nil, func(t *testing.T, e *secEnv) {
		a := e.register("get_resetter")
		e.nextMail() // verification
		e.do(request{method: "GET", path: "/api/auth/forgot-password/request?username=get_resetter&email=" + url.QueryEscape(a.email)}).wantStatus(t, 200)
		_, token := mailToken(t, e.nextMail())
		hdr := map[string]string{"authorization-header": "bearer " + token}

		// No token at all, a bad one, and a refused password: the POST's answers.
		e.do(request{method: "GET", path: "/api/auth/forgot-password/reset", form: url.Values{"new_password": {newPassword}, "confirm_password": {newPassword}}}).wantError(t, 422, "invalid_request")
		e.do(request{method: "GET", path: "/api/auth/forgot-password/reset", form: url.Values{"new_password": {newPassword}, "confirm_password": {newPassword}},
			header: map[string]string{"authorization-header": "bearer " + strings.Repeat("A", 43)}}).wantError(t, 401, "invalid_token")
		e.do(request{method: "GET", path: "/api/auth/forgot-password/reset", form: url.Values{"new_password": {newPassword}, "confirm_password": {newPassword + "x"}},
			header: hdr}).wantError(t, 400, "password_mismatch")

		r := e.do(request{method: "GET", path: "/api/auth/forgot-password/reset", form: url.Values{"new_password": {newPassword}, "confirm_password": {newPassword}}, header: hdr})
		r.wantStatus(t, 200)
		if string(r.body) != "Password reset successful" {
			t.Fatalf("body %q", r.body)
		}
		e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"get_resetter"}, "password": {newPassword}}}).tokens(t)
		// Single use, as with the POST.
		e.do(request{method: "GET", path: "/api/auth/forgot-password/reset", form: url.Values{"new_password": {password}, "confirm_password": {password}}, header: hdr}).wantError(t, 401, "invalid_token")
	})
}
