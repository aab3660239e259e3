package httpadapter_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestPagesAccountEmail: the profile form changes the email through the
// Manager's email rules: the form sent back unchanged changes nothing, a
// new address is stored unverified and gets the verification mail (whose
// link verifies it), and a bad one is refused with the page.
func TestPagesAccountEmail(t *testing.T) {
	eachPagesMailBackend(t, nil, func(t *testing.T, e *secEnv, pc *pageClient) {
		ctx := context.Background()
		pc.submit("/register", signUpForm("mail_user")).wantStatus(t, http.StatusSeeOther)
		_, token := mailToken(t, e.nextMail())
		e.do(request{method: "GET", path: "/api/auth/email/verify?token=" + token}).wantStatus(t, 307)
		pc.get("/account").wantStatus(t, 200).wantContains(t, `<input id="email" name="email" type="email"`, `value="mail_user@example.com"`)

		// Unchanged (in another case): only the name changes, the address
		// stays verified.
		pc.accountPost("/account/profile", url.Values{"display_name": {"Mail User"}, "email": {" Mail_User@Example.com "}}).
			wantRedirect(t, http.StatusSeeOther, "/account?done=profile")
		u, err := e.m.UserByLogin(ctx, "mail_user")
		if err != nil || u.Email != "mail_user@example.com" || !u.EmailVerified || u.DisplayName != "Mail User" {
			t.Fatalf("user %+v, %v", u, err)
		}

		// A bad address: the page with the API's message, nothing changed.
		pc.accountPost("/account/profile", url.Values{"display_name": {"Other Name"}, "email": {"not-an-address"}}).
			wantStatus(t, usermgmt.ErrInvalidEmail.Status).wantHTML(t).wantContains(t, `role="alert"`)
		if u, err = e.m.UserByLogin(ctx, "mail_user"); err != nil || u.Email != "mail_user@example.com" || u.DisplayName != "Mail User" {
			t.Fatalf("after a bad address: %+v, %v", u, err)
		}

		// A new address: unverified, mailed, verified by its link.
		pc.accountPost("/account/profile", url.Values{"display_name": {"Mail User"}, "email": {"new.mail@example.com"}}).
			wantRedirect(t, http.StatusSeeOther, "/account?done=email-sent")
		pc.get("/account?done=email-sent").wantContains(t, "We have mailed a link to your new address", `value="new.mail@example.com"`, "(not verified)")
		if u, err = e.m.UserByLogin(ctx, "mail_user"); err != nil || u.Email != "new.mail@example.com" || u.EmailVerified {
			t.Fatalf("after the change: %+v, %v", u, err)
		}
		msg := e.nextMail()
		if msg.To[0] != "new.mail@example.com" {
			t.Fatalf("verification mail to %v", msg.To)
		}
		_, token = mailToken(t, msg)
		e.do(request{method: "GET", path: "/api/auth/email/verify?token=" + token}).wantStatus(t, 307)
		if u, err = e.m.UserByLogin(ctx, "mail_user"); err != nil || !u.EmailVerified {
			t.Fatalf("after the link: %+v, %v", u, err)
		}

		// A form without the field (as before) leaves the address alone.
		pc.accountPost("/account/profile", url.Values{"display_name": {"Mail User"}}).wantRedirect(t, http.StatusSeeOther, "/account?done=profile")
		if u, err = e.m.UserByLogin(ctx, "mail_user"); err != nil || u.Email != "new.mail@example.com" {
			t.Fatalf("without the field: %+v, %v", u, err)
		}
	})
}

// TestPagesAccountEmailNoMailer: without a mailer the new address is
// stored unverified and the page says that no mail went out.
func TestPagesAccountEmailNoMailer(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
	a := e.register("no_mail_profile")
	pc := newPageClient(t, e.h)
	pc.submit("/login", url.Values{"username": {a.username}, "password": {password}}).wantStatus(t, http.StatusSeeOther)
	pc.accountPost("/account/profile", url.Values{"display_name": {"No Mail Profile"}, "email": {"moved@example.com"}}).
		wantRedirect(t, http.StatusSeeOther, "/account?done=email-unverified")
	p := pc.get("/account?done=email-unverified").wantContains(t, "sends no mail", `value="moved@example.com"`, "(not verified)")
	if claimsSent.MatchString(p.body) {
		t.Fatalf("the page claims a mail: %s", p.body)
	}
	if u, err := e.m.UserByLogin(context.Background(), a.username); err != nil || u.Email != "moved@example.com" || u.EmailVerified {
		t.Fatalf("user %+v, %v", u, err)
	}
}
