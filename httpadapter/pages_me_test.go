package httpadapter_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// accountPost posts form to path as the account page's forms do: with the
// account page's token.
func (pc *pageClient) accountPost(path string, form url.Values) page {
	pc.t.Helper()
	form.Set("csrf_token", csrfOf(pc.t, pc.get("/account")))
	return pc.post(path, form, nil)
}

// wantHTML checks that p is a page, not JSON.
func (p page) wantHTML(t testing.TB) page {
	t.Helper()
	if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" || strings.HasPrefix(strings.TrimSpace(p.body), "{") {
		t.Fatalf("not a page: %q %s", ct, p.body)
	}
	return p
}

// TestPagesAccount: the account page (issue 15 item 10) shows the profile,
// the sessions, the password form, two-factor login and deletion; each
// form calls the Manager, leads back with a notice, and answers a refusal
// with the page and the API's status and message.
func TestPagesAccount(t *testing.T) {
	eachPagesMailBackend(t, nil, func(t *testing.T, e *secEnv, pc *pageClient) {
		// Signed out: log in first, and come back.
		pc.get("/account").wantRedirect(t, http.StatusSeeOther, "/login?redirect_uri=%2Faccount")
		pc.submit("/register", signUpForm("acct_user")).wantStatus(t, http.StatusSeeOther)
		e.nextMail() // the verification link

		p := pc.get("/account").wantStatus(t, 200).wantHTML(t).wantContains(t, "<title>Your account",
			"<h2 id=\"profile-h\">Profile</h2>", "acct_user@example.com", `action="/account/profile"`,
			`action="/reset-password/reset"`, `href="/account/two-factor"`, "(this browser)",
			`action="/account/sessions/revoke-all"`, "Sign out everywhere", `action="/account/delete"`)
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") {
			t.Fatalf("CSP %q", csp)
		}
		if strings.Contains(p.body, "Passkeys</h2>") {
			t.Fatal("passkeys shown without the passkey feature")
		}
		pc.get("/login").wantContains(t, `href="/account"`)

		// Profile: the policy's self-edit, through Actor.UpdateUser.
		pc.accountPost("/account/profile", url.Values{"display_name": {"Acct User"}, "description": {"Hello"}}).
			wantRedirect(t, http.StatusSeeOther, "/account?done=profile")
		pc.get("/account?done=profile").wantContains(t, "Your profile has been saved.", `value="Acct User"`, `value="Hello"`)
		msg := usermgmt.ErrInvalidDisplayName.Message
		pc.accountPost("/account/profile", url.Values{"display_name": {"Someone Else"}}).wantStatus(t, 400).wantHTML(t).
			wantContains(t, `role="alert"`, templateEscape(msg))
		// No token: refused, nothing changed.
		pc.post("/account/profile", url.Values{"display_name": {"ACCT USER"}}, nil).wantStatus(t, 403).wantHTML(t).
			wantContains(t, "Cross-site request refused", `href="/account">Back to your account`)
		u, err := e.m.UserByLogin(context.Background(), "acct_user")
		if err != nil || u.DisplayName != "Acct User" || u.Description != "Hello" {
			t.Fatalf("user %+v, %v", u, err)
		}

		// Sessions: another one, ended from here; its token dies.
		other := e.login("acct_user")
		p = pc.get("/account")
		if n := strings.Count(p.body, `name="session_id"`); n != 2 {
			t.Fatalf("%d sessions listed, want 2:\n%s", n, p.body)
		}
		// This browser's is listed first.
		ids := regexp.MustCompile(`name="session_id" value="([^"]+)"`).FindAllStringSubmatch(p.body, -1)
		otherID := ids[1][1]
		pc.accountPost("/account/sessions/revoke", url.Values{"session_id": {otherID}}).wantRedirect(t, http.StatusSeeOther, "/account?done=session")
		e.do(request{method: "GET", path: "/api/user/me", token: other.AccessToken}).wantStatus(t, 401)
		pc.get("/account").wantStatus(t, 200)
		// A session of nobody, or of another user: the API's 404.
		pc.accountPost("/account/sessions/revoke", url.Values{"session_id": {"00000000-0000-4000-8000-000000000000"}}).wantStatus(t, 404).wantHTML(t)
		pc.accountPost("/account/sessions/revoke", url.Values{}).wantStatus(t, 422).wantContains(t, "session_id: field required")

		// The password form on the account page is the change page's.
		pc.accountPost("/reset-password/reset", url.Values{"old_password": {password}, "new_password": {"N3w-passw0rd!"}, "confirm_password": {"N3w-passw0rd!"}}).
			wantStatus(t, 200).wantContains(t, "Your password has been changed.")
		e.nextMail() // the notice of the change

		// Two-factor by email: the code, then ten recovery codes once.
		pc.get("/account/two-factor").wantContains(t, "Two-factor login is off", `href="/account/two-factor?method=email"`, `href="/account/two-factor?method=authenticator"`)
		pc.get("/account/two-factor?method=email").wantContains(t, `action="/account/two-factor/email"`)
		tok := csrfOf(t, pc.get("/account/two-factor?method=email"))
		pc.post("/account/two-factor/email", url.Values{"csrf_token": {tok}}, nil).wantStatus(t, 200).wantContains(t, "We emailed you a code.", `name="otp_code"`)
		code := mailCode(t, e.nextMail())
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		pc.post("/account/two-factor", url.Values{"csrf_token": {tok}, "method": {"email"}, "otp_code": {wrong}}, nil).wantStatus(t, 401).wantHTML(t).
			wantContains(t, "That code is not right")
		p = pc.post("/account/two-factor", url.Values{"csrf_token": {tok}, "method": {"email"}, "otp_code": {code}}, nil).wantStatus(t, 200).
			wantContains(t, "Two-factor login is on.", "Your recovery codes")
		if n := strings.Count(p.body, "<li><code>"); n != 10 {
			t.Fatalf("%d recovery codes shown", n)
		}
		pc.get("/account").wantContains(t, "On: a code we email you.")
		pc.get("/account/two-factor").wantContains(t, "Turn it off", `name="password"`)
		// Off with the password.
		pc.post("/account/two-factor", url.Values{"csrf_token": {tok}, "method": {"none"}}, nil).wantStatus(t, 422).wantContains(t, "Enter a code or your password")
		pc.post("/account/two-factor", url.Values{"csrf_token": {tok}, "method": {"none"}, "password": {"N3w-passw0rd!"}}, nil).
			wantRedirect(t, http.StatusSeeOther, "/account?done=two-factor-off")
		pc.post("/account/two-factor", url.Values{"csrf_token": {tok}, "method": {"sms"}, "otp_code": {"1"}}, nil).wantStatus(t, 422).wantHTML(t)

		// Sign out everywhere: every session ends, this one too.
		other = e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"acct_user"}, "password": {"N3w-passw0rd!"}}}).tokens(t)
		pc.accountPost("/account/sessions/revoke-all", url.Values{}).wantRedirect(t, http.StatusSeeOther, "/login?logged_out=1")
		e.do(request{method: "GET", path: "/api/user/me", token: other.AccessToken}).wantStatus(t, 401)
		if pc.cookie(httpadapter.SessionCookie) != "" {
			t.Fatal("the session cookie outlived sign out everywhere")
		}
		pc.get("/account").wantRedirect(t, http.StatusSeeOther, "/login?redirect_uri=%2Faccount")

		// Delete: an account with a password only with its password
		// (TestPagesAccountDelete has the rest).
		pc.submit("/login", url.Values{"username": {"acct_user"}, "password": {"N3w-passw0rd!"}}).wantStatus(t, http.StatusSeeOther)
		pc.accountPost("/account/delete", url.Values{"confirm_username": {"acct_user"}}).wantStatus(t, 422).wantHTML(t).
			wantContains(t, "To delete the account, enter your password.")
		pc.accountPost("/account/delete", url.Values{"password": {"N3w-passw0rd!"}}).wantRedirect(t, http.StatusSeeOther, "/login?deleted=1")
		pc.get("/login?deleted=1").wantContains(t, "Your account has been deleted.")
		if _, err := e.m.UserByLogin(context.Background(), "acct_user"); !errors.Is(err, usermgmt.ErrUserNotFound) {
			t.Fatalf("after deletion: %v", err)
		}
	})
}

var secretField = regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`)

// TestPagesAccountAuthenticator: enrolling an authenticator app from the
// account page (the secret and its QR code, then a code), and renewing
// the recovery codes.
func TestPagesAccountAuthenticator(t *testing.T) {
	eachPagesBackend(t, func(t *testing.T, e *env, pc *pageClient) {
		pc.submit("/register", signUpForm("totp_page")).wantStatus(t, http.StatusSeeOther)
		p := pc.get("/account/two-factor?method=authenticator").wantStatus(t, 200).
			wantContains(t, `src="/account/two-factor/qr.png"`, `alt="QR code of your authenticator key"`)
		m := secretField.FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no secret in\n%s", p.body)
		}
		qr := pc.get("/account/two-factor/qr.png").wantStatus(t, 200)
		if qr.header.Get("Content-Type") != "image/png" || !strings.HasPrefix(qr.body, "\x89PNG") {
			t.Fatalf("QR %q", qr.header.Get("Content-Type"))
		}
		tok := csrfOf(t, p)
		pc.post("/account/two-factor", url.Values{"csrf_token": {tok}, "method": {"authenticator"}}, nil).wantStatus(t, 422).wantContains(t, "otp_code: field required")
		p = pc.post("/account/two-factor", url.Values{"csrf_token": {tok}, "method": {"authenticator"}, "otp_code": {totpCode(t, m[1], e.clock.Now())}}, nil).
			wantStatus(t, 200).wantContains(t, "Your recovery codes")
		first := p.body
		pc.get("/account").wantContains(t, "On: a code from your authenticator app.")
		// Renewing: no secret shown again, a fresh code, new recovery codes.
		p = pc.get("/account/two-factor?method=authenticator").wantContains(t, "Get new recovery codes")
		if secretField.MatchString(p.body) {
			t.Fatal("the secret is shown after enrolment")
		}
		e.clock.Advance(31e9)
		p = pc.post("/account/two-factor", url.Values{"csrf_token": {tok}, "method": {"authenticator"}, "otp_code": {totpCode(t, m[1], e.clock.Now())}}, nil).
			wantStatus(t, 200).wantContains(t, "Your recovery codes")
		if p.body == first {
			t.Fatal("the same recovery codes after renewal")
		}
		// Signed out, the QR code is not served.
		fresh := newPageClient(t, e.h)
		fresh.get("/account/two-factor/qr.png").wantStatus(t, http.StatusSeeOther)
	})
}

// TestPagesAccountLimited: the account page's forms take the account
// class, and a refusal is the HTML "Too many attempts" page leading back
// to /account.
func TestPagesAccountLimited(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{Pages: &httpadapter.PagesOptions{}, RateLimit: httpadapter.RateLimitOptions{
		Enabled: true, Classes: map[string]httpadapter.LimitClass{httpadapter.ClassAccount: {IP: usermgmt.Rate{Limit: 2, Window: 60e9}}},
	}})
	pc := newPageClient(t, e.h)
	pc.submit("/register", signUpForm("limit_acct")).wantStatus(t, http.StatusSeeOther)
	for range 2 {
		pc.accountPost("/account/profile", url.Values{"display_name": {"Limit Acct"}}).wantStatus(t, http.StatusSeeOther)
	}
	p := pc.accountPost("/account/profile", url.Values{"display_name": {"Limit Acct"}}).wantStatus(t, 429).wantHTML(t).
		wantContains(t, "<title>Too many attempts", `href="/account"`)
	if p.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

// TestPagesAccountProviders: the account page lists the linked providers
// (with their icons) and the others; linking from it ends back on it, and
// unlinking keeps the last way in.
func TestPagesAccountProviders(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		e.h = httpadapter.New(e.m, httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
		pc := newPageClient(t, e.h)
		// consent at the fake provider as email and follow the callback.
		consent := func(provider string, start page, email string) page {
			t.Helper()
			start.wantStatus(t, http.StatusFound)
			e.fakes[provider].SetIdentity(identity(provider, 1, email))
			cb, err := e.fakes[provider].Authorize(start.header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			return pc.get(strings.TrimPrefix(cb, baseURL))
		}
		// An account made by GitHub: no password, GitHub its only way in.
		consent("github", pc.get("/login/github"), "prov.user@example.com").wantRedirect(t, http.StatusSeeOther, "/login")
		pc.get("/account").wantStatus(t, 200).wantContains(t, `<svg class="icon"`, "<strong>GitHub</strong> · prov.user@example.com",
			"Unlink GitHub", `href="/account/link/discord"`, "Your account has no password")

		// Link Discord from the account page: back to it.
		consent("discord", pc.get("/account/link/discord"), "prov.user@example.com").wantRedirect(t, http.StatusSeeOther, "/account?done=linked")
		pc.get("/account?done=linked").wantContains(t, "The account has been linked.", "Unlink Discord")
		// From another site, no flow begins.
		pc.do("GET", "/account/link/google", nil, map[string]string{"Accept": "text/html", "Sec-Fetch-Site": "cross-site"}).wantStatus(t, 403)

		// Unlink Discord; GitHub, now the last way in, stays.
		pc.accountPost("/account/unlink", url.Values{"provider": {"discord"}}).wantRedirect(t, http.StatusSeeOther, "/account?done=unlinked")
		pc.get("/account").wantContains(t, `href="/account/link/discord"`)
		pc.accountPost("/account/unlink", url.Values{"provider": {"github"}}).wantHTML(t).wantContains(t, `role="alert"`)
		ids, err := e.m.ExternalIdentities(context.Background(), userUUIDOf(t, e.env, "prov.user@example.com"))
		if err != nil || len(ids) != 1 || ids[0].Provider != "github" {
			t.Fatalf("identities %v, %v", ids, err)
		}
	})
}

// userUUIDOf returns the UUID of the user with login.
func userUUIDOf(t *testing.T, e *env, login string) string {
	t.Helper()
	u, err := e.m.UserByLogin(context.Background(), login)
	if err != nil {
		t.Fatal(err)
	}
	return u.UUID
}
