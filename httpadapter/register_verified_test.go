package httpadapter_test

import (
	"bytes"
	"context"
	"net/url"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// TestRegisterRequireVerifiedEmail: with RequireVerifiedEmail on, register
// creates the account and mails its link but hands out no tokens, and its
// answer is byte for byte login's refusal for the same account (issue 15
// item 3). After verification the account logs in.
func TestRegisterRequireVerifiedEmail(t *testing.T) {
	eachBackendMail(t, func(c *usermgmt.Config) { c.RequireVerifiedEmail = true }, func(t *testing.T, e *secEnv) {
		reg := e.do(request{method: "POST", path: "/api/auth/register", form: url.Values{
			"username": {"unverified_reg"}, "email": {"unverified@example.com"}, "password": {password}, "confirm_password": {password},
		}})
		reg.wantError(t, 403, "email_not_verified")
		if bytes.Contains(reg.body, []byte("access_token")) || bytes.Contains(reg.body, []byte("refresh_token")) {
			t.Fatalf("register answered tokens: %s", reg)
		}
		login := e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"unverified_reg"}, "password": {password}}})
		login.wantError(t, 403, "email_not_verified")
		if !bytes.Equal(reg.body, login.body) {
			t.Fatalf("register %s, login %s: want the same answer", reg, login)
		}

		u, err := e.m.UserByLogin(context.Background(), "unverified_reg")
		if err != nil {
			t.Fatalf("account not created: %v", err)
		}
		sessions, err := e.m.Sessions(context.Background(), u.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if len(sessions) != 0 {
			t.Fatalf("register opened %d sessions for an unverified account", len(sessions))
		}

		_, token := mailToken(t, e.nextMail())
		e.do(request{method: "GET", path: "/api/auth/email/verify?token=" + token}).wantStatus(t, 307)
		e.login("unverified_reg")
	})
}
