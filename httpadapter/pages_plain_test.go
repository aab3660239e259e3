package httpadapter_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestPagesIndex: / is no 404 page: it leads to the login page, or for a
// signed-in browser to its account page.
func TestPagesIndex(t *testing.T) {
	eachPagesBackend(t, func(t *testing.T, e *env, pc *pageClient) {
		pc.get("/").wantRedirect(t, http.StatusSeeOther, "/login")
		pc.submit("/register", signUpForm("index_user")).wantStatus(t, http.StatusSeeOther)
		pc.get("/").wantRedirect(t, http.StatusSeeOther, "/login") // the login page shows who is signed in
	})
}

// TestPagesFooterLinks: the footer links only the pages a host
// configured; the others are not shown (their paths still answer 404).
func TestPagesFooterLinks(t *testing.T) {
	dsn := backends[0].dsn(t)
	bare := newPageClient(t, pagesEnv(t, dsn, httpadapter.PagesOptions{}).h)
	for _, path := range []string{"/login", "/register", "/404", "/forgot-password/request"} {
		p := bare.get(path)
		for _, link := range []string{`href="/terms"`, `href="/privacy"`, `href="/support"`, "<footer"} {
			if strings.Contains(p.body, link) {
				t.Fatalf("%s shows %s with no link configured", path, link)
			}
		}
	}
	bare.get("/terms").wantRedirect(t, http.StatusTemporaryRedirect, "/404")

	some := newPageClient(t, pagesEnv(t, dsn, httpadapter.PagesOptions{
		TermsURL: "https://example.com/terms", SupportURL: "mailto:help@example.com",
	}).h)
	p := some.get("/login").wantContains(t, "<footer", `<a href="https://example.com/terms">Terms</a>`, `<a href="mailto:help@example.com">Support</a>`)
	if strings.Contains(p.body, "Privacy") {
		t.Fatal("an unset privacy link is shown")
	}
	some.get("/terms").wantRedirect(t, http.StatusTemporaryRedirect, "https://example.com/terms")
	some.get("/privacy").wantRedirect(t, http.StatusTemporaryRedirect, "/404")
}

// TestPagesDeadResetLink: a reset link already used says so when it is
// opened, without a form to fill in vain.
func TestPagesDeadResetLink(t *testing.T) {
	eachPagesMailBackend(t, noFrontend, func(t *testing.T, e *secEnv, pc *pageClient) {
		e.register("dead_link")
		e.nextMail()
		pc.submit("/forgot-password/request", url.Values{"email": {"dead_link@example.com"}}).wantStatus(t, 200)
		link, token := mailToken(t, e.nextMail())
		const newPassword = "N3w-passw0rd!"
		good := url.Values{"token": {token}, "new_password": {newPassword}, "confirm_password": {newPassword}}
		pc.submit(pathOf(t, link), good).wantRedirect(t, http.StatusSeeOther, "/login?password_reset=1")

		for name, path := range map[string]string{
			"spent":     pathOf(t, link),
			"malformed": "/forgot-password/reset?token=nope",
			"unknown":   "/forgot-password/reset?token=" + strings.Repeat("A", len(token)),
		} {
			p := pc.get(path).wantStatus(t, http.StatusUnauthorized).
				wantContains(t, `role="alert"`, "This reset link has already been used or has expired", `href="/forgot-password/request"`)
			if strings.Contains(p.body, `name="new_password"`) || strings.Contains(p.body, token) {
				t.Fatalf("%s: the dead link shows the form:\n%s", name, p.body)
			}
		}
	})
}

// TestPagesPlainWords: the pages say what went wrong in plain words where
// the API's detail is jargon.
func TestPagesPlainWords(t *testing.T) {
	eachPagesMailBackend(t, nil, func(t *testing.T, e *secEnv, pc *pageClient) {
		long := strings.Repeat("é", 37) + "Aa1!" // 78 bytes, 41 characters
		f := signUpForm("long_password")
		f.Set("password", long)
		f.Set("confirm_password", long)
		p := pc.submit("/register", f).wantStatus(t, 400).wantContains(t, "Password is too long: use at most 72 characters")
		if strings.Contains(p.body, "bytes") {
			t.Fatalf("the page speaks of bytes:\n%s", p.body)
		}

		a := e.register("plain_otp")
		e.nextMail()
		e.do(request{method: "POST", path: "/api/auth/OTP/email/send", token: a.AccessToken}).wantStatus(t, 200)
		e.do(request{method: "PATCH", path: "/api/auth/OTP/email?otp_code=" + mailCode(t, e.nextMail()), token: a.AccessToken}).wantStatus(t, 200)
		pc.submit("/login", url.Values{"username": {"plain_otp"}, "password": {password}}).wantStatus(t, http.StatusSeeOther)
		code := mailCode(t, e.nextMail())
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		p = pc.submit("/otp?method=email", url.Values{"otp_code": {wrong}}).wantStatus(t, 401).wantContains(t, "That code is not right")
		if strings.Contains(p.body, usermgmt.ErrInvalidOTP.Message) {
			t.Fatalf("the page shows %q", usermgmt.ErrInvalidOTP.Message)
		}
		// The API keeps the detail its clients read.
		e.do(request{method: "POST", path: "/api/auth/register", form: f}).wantError(t, 400, "password_too_long")
	})
}

// TestPagesProviderNames: a provider button shows the provider's name, the
// host's when it gives one, never a capitalised key.
func TestPagesProviderNames(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		e.h = httpadapter.New(e.m, httpadapter.Options{Pages: &httpadapter.PagesOptions{ProviderNames: map[string]string{"okta": "Acme SSO"}}})
		pc := newPageClient(t, e.h)
		p := pc.get("/login").wantContains(t, "Continue with Acme SSO", "Continue with GitHub")
		if strings.Contains(p.body, "Continue with Okta") {
			t.Fatal("the host's name for okta is not used")
		}

		// A provider that sends the browser back with access_denied: plain
		// words on the login page, not the protocol's error code.
		f := e.startPage(t, "/login/google", nil)
		state := mustQuery(t, f.location).Get("state")
		r := e.do(request{method: "GET", path: "/api/oauth/google/callback?error=access_denied&state=" + url.QueryEscape(state), header: cookieHeader(f.cookies)})
		if !strings.Contains(string(r.body), "The login was cancelled, or the provider did not allow it.") || strings.Contains(string(r.body), "access_denied") {
			t.Fatalf("refused flow: %d %s", r.status, r.body)
		}
	})
}
