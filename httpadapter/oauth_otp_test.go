package httpadapter_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestOAuthLoginAsksForTheSecondFactor: a provider stands for the password
// only. An account with two-factor login on gets the same otp_required
// challenge from the callback as from /auth/login, and POST /auth/OTP
// completes it.
func TestOAuthLoginAsksForTheSecondFactor(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		ctx := context.Background()
		id := identity("github", 1, "twofactor@example.org")
		tk := e.login(t, "github", id).tokens(t)
		uuid := e.whoami(tk.AccessToken)

		setup, err := e.m.SetupOTP(ctx, uuid)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.m.ChangeOTPMethod(ctx, uuid, usermgmt.OTPAuthenticator, totpCode(t, setup.Secret, e.clock.Now()), ""); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(30 * time.Second) // a step not used yet

		r := e.login(t, "github", id)
		r.wantStatus(t, http.StatusUnauthorized)
		var body struct {
			Code     string `json:"code"`
			OTPToken string `json:"otp_token"`
		}
		r.decode(t, &body)
		if body.Code != "otp_required" || body.OTPToken == "" {
			t.Fatalf("callback answered %s", r)
		}
		second := e.do(request{method: "POST", path: "/api/auth/OTP", json: map[string]string{
			"otp_token": body.OTPToken, "otp_code": totpCode(t, setup.Secret, e.clock.Now())}})
		if e.whoami(second.tokens(t).AccessToken) != uuid {
			t.Fatal("the second step logged into another account")
		}
	})
}

// TestPagesOAuthLoginAsksForTheSecondFactor: a provider button of the pages
// ends on /otp (the challenge in its HttpOnly cookie), not signed in.
func TestPagesOAuthLoginAsksForTheSecondFactor(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		e.h = httpadapter.New(e.m, httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
		ctx := context.Background()
		f := e.startPage(t, "/login/github", nil)
		r := e.finish(t, "github", f, "page.twofactor@example.com", f.cookies)
		uuid := e.whoami(cookieOf(r.header, httpadapter.SessionCookie).Value)
		setup, err := e.m.SetupOTP(ctx, uuid)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.m.ChangeOTPMethod(ctx, uuid, usermgmt.OTPAuthenticator, totpCode(t, setup.Secret, e.clock.Now()), ""); err != nil {
			t.Fatal(err)
		}

		f = e.startPage(t, "/login/github", nil)
		r = e.finish(t, "github", f, "page.twofactor@example.com", f.cookies)
		r.wantStatus(t, http.StatusSeeOther)
		if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/otp?") {
			t.Fatalf("Location %q", loc)
		}
		if c := cookieOf(r.header, "usermgmt_otp"); c == nil || c.Value == "" || !c.HttpOnly {
			t.Fatalf("challenge cookie %+v", c)
		}
		if c := cookieOf(r.header, httpadapter.SessionCookie); c != nil && c.MaxAge >= 0 {
			t.Fatalf("signed in without the second factor: %+v", c)
		}
	})
}
