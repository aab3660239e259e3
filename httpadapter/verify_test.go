package httpadapter_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

func TestEmailVerification(t *testing.T) {
	eachBackendMail(t, nil, func(t *testing.T, e *secEnv) {
		a := e.register("verify_me")
		msg := e.nextMail()
		if msg.To[0] != a.email || !strings.Contains(msg.Subject, "Test Project - Activate your account") {
			t.Fatalf("verification mail %v %q", msg.To, msg.Subject)
		}
		link, token := mailToken(t, msg)
		if !strings.HasPrefix(link, baseURL+"/api/auth/email/verify?token=") {
			t.Fatalf("link %q", link)
		}
		if strings.Contains(msg.Text, "{{") || strings.Contains(msg.HTML, "{{") {
			t.Fatalf("unfilled template: %s", msg.Text)
		}

		// A foreign redirect is refused, the token stays good.
		e.do(request{method: "GET", path: pathOf(t, link) + "&redirect=" + url.QueryEscape("https://evil.example/")}).wantError(t, 400, "invalid_input")
		r := e.do(request{method: "GET", path: pathOf(t, link)})
		r.wantStatus(t, http.StatusTemporaryRedirect)
		if loc := r.header.Get("Location"); loc != "https://app.example.com" {
			t.Fatalf("Location = %q", loc)
		}
		me := e.do(request{method: "GET", path: "/api/user/me", token: a.AccessToken}).object(t)
		if me["email_verified"] != true {
			t.Fatalf("not verified: %v", me)
		}
		// Single use.
		e.do(request{method: "GET", path: "/api/auth/email/verify?token=" + token}).wantError(t, 401, "invalid_token")
		// Verified: a resend sends nothing, and answers the same.
		e.do(request{method: "POST", path: "/api/auth/email/verify/resend", form: url.Values{"email": {a.email}}}).wantStatus(t, 200)
		e.do(request{method: "POST", path: "/api/auth/email/verify/resend", json: map[string]string{"email": "nobody@example.com"}}).wantStatus(t, 200)
		e.noMail()

		tests := []struct{ name, token string }{
			{"garbage", "not-a-token"},
			{"right shape, unknown", strings.Repeat("A", 43)},
			{"too long", strings.Repeat("A", 4000)},
			{"bearer prefix, unknown", "bearer " + strings.Repeat("B", 43)},
		}
		for _, tt := range tests {
			e.do(request{method: "GET", path: "/api/auth/email/verify?token=" + url.QueryEscape(tt.token)}).wantError(t, 401, "invalid_token")
		}
		e.do(request{method: "GET", path: "/api/auth/email/verify"}).wantError(t, 422, "invalid_request")
	})
}

func TestVerificationResendExpiryAndEmailChange(t *testing.T) {
	eachBackendMail(t, func(c *usermgmt.Config) {
		c.RequireVerifiedEmail = true
		c.RedirectAllowList = []string{"https://partner.example.com/welcome"}
	}, func(t *testing.T, e *secEnv) {
		// Register creates the account but, like login, waits for the
		// address (issue 15 item 3: it used to answer working tokens).
		e.do(request{method: "POST", path: "/api/auth/register", json: map[string]string{
			"username": "slow_verifier", "email": "slow@example.com", "password": password, "confirm_password": password,
		}}).wantError(t, 403, "email_not_verified")
		_, first := mailToken(t, e.nextMail())
		e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"slow_verifier"}, "password": {password}}}).wantError(t, 403, "email_not_verified")

		// A resend voids the first link.
		e.do(request{method: "POST", path: "/api/auth/email/verify/resend", json: map[string]string{"email": "SLOW@example.com"}}).wantStatus(t, 200)
		_, second := mailToken(t, e.nextMail())
		e.do(request{method: "GET", path: "/api/auth/email/verify?token=" + first}).wantError(t, 401, "invalid_token")
		// Valid 24 hours.
		e.clock.Advance(24*time.Hour + time.Second)
		e.do(request{method: "GET", path: "/api/auth/email/verify?token=" + second}).wantError(t, 401, "invalid_token")
		e.do(request{method: "POST", path: "/api/auth/email/verify/resend", form: url.Values{"username": {"slow_verifier"}}}).wantStatus(t, 200)
		_, third := mailToken(t, e.nextMail())
		r := e.do(request{method: "GET", path: "/api/auth/email/verify?token=" + third + "&redirect=" + url.QueryEscape("https://partner.example.com/welcome/back")})
		r.wantStatus(t, http.StatusTemporaryRedirect)
		if loc := r.header.Get("Location"); loc != "https://partner.example.com/welcome/back" {
			t.Fatalf("Location = %q", loc)
		}
		tk := e.login("slow_verifier")

		// An email change sends a new verification to the new address and
		// voids the old link.
		uuid := e.whoami(tk.AccessToken)
		e.do(request{method: "PATCH", path: "/api/user/" + uuid, token: tk.AccessToken, json: map[string]string{"email": "new@example.com"}}).wantStatus(t, 200)
		msg := e.nextMail()
		if msg.To[0] != "new@example.com" {
			t.Fatalf("mail to %v", msg.To)
		}
		// An undeliverable domain is refused.
		e.do(request{method: "PATCH", path: "/api/user/" + uuid, token: tk.AccessToken, json: map[string]string{"email": "x@nomail.invalid"}}).wantError(t, 400, "email_undeliverable")
		e.do(request{method: "POST", path: "/api/auth/register", json: map[string]string{
			"username": "nowhere_user", "email": "a@nowhere.invalid", "password": password, "confirm_password": password,
		}}).wantError(t, 400, "email_undeliverable")

		// The trusted admin create sends one too.
		if _, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: "made_by_admin", Email: "made@example.com", Password: password}); err != nil {
			t.Fatal(err)
		}
		if msg := e.nextMail(); msg.To[0] != "made@example.com" {
			t.Fatalf("mail to %v", msg.To)
		}
	})
}
