package httpadapter_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// emailPagesEnv is a Manager with sign-in by mail, mailing to memory,
// served with the pages (rate limits on when limited).
func emailPagesEnv(t *testing.T, cfg emaillogin.Config, limited bool) (*secEnv, *emaillogin.EmailLogin, *pageClient) {
	t.Helper()
	el := emaillogin.New(cfg)
	e := newSecEnvOpts(t, "sqlite://"+t.TempDir()+"/db.sqlite", nil, httpadapter.Options{
		Pages: &httpadapter.PagesOptions{}, RateLimit: httpadapter.RateLimitOptions{Enabled: limited}}, el)
	t.Cleanup(el.Wait) // before the Manager closes
	return e, el, newPageClient(t, e.h)
}

// TestPagesEmailCode: "Email me a code" answers the same page for known
// and unknown addresses, mails the code to the known one only, and the
// code page signs the browser in; a wrong code shows the page again.
func TestPagesEmailCode(t *testing.T) {
	e, el, pc := emailPagesEnv(t, emaillogin.Config{}, false)
	e.register("jane_doe")
	e.nextMail() // the verification mail

	pc.get("/login").wantStatus(t, 200).wantContains(t, `id="email-signin"`, `formaction="/login/email-link"`, "Email me a link",
		`formaction="/login/email-code"`, "Email me a code", `autocomplete="email"`)

	pc.post("/login/email-code", url.Values{"email": {"nobody@example.com"}, "csrf_token": {csrfOf(t, pc.get("/login"))}}, nil).
		wantStatus(t, 200).wantContains(t, "If an account uses this address, a sign-in code is on its way.", `action="/login/code"`)
	el.Wait()
	e.noMail()
	known := pc.post("/login/email-code", url.Values{"email": {"jane_doe@example.com"}, "csrf_token": {csrfOf(t, pc.get("/login"))}}, nil).
		wantStatus(t, 200).wantContains(t, "If an account uses this address, a sign-in code is on its way.", `action="/login/code"`,
		`name="email" value="jane_doe@example.com"`, `autocomplete="one-time-code"`)
	code := mailCode(t, e.nextMail())

	// A wrong code: the code page again, with the error, still for jane.
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	pc.post("/login/code", url.Values{"email": {"jane_doe@example.com"}, "code": {wrong}, "csrf_token": {csrfOf(t, known)}}, nil).
		wantStatus(t, 401).wantContains(t, `role="alert"`, `name="email" value="jane_doe@example.com"`)
	// The right one: the session, as after a password.
	pc.post("/login/code", url.Values{"email": {"jane_doe@example.com"}, "code": {code}, "csrf_token": {csrfOf(t, known)}}, nil).
		wantRedirect(t, http.StatusSeeOther, "/login")
	if pc.cookie(httpadapter.SessionCookie) == "" {
		t.Fatal("no session cookie after the code")
	}
	pc.get("/login").wantContains(t, "You are signed in as")
	// Spent.
	pc.post("/login/code", url.Values{"email": {"jane_doe@example.com"}, "code": {code}, "csrf_token": {csrfOf(t, known)}}, nil).
		wantStatus(t, 401)

	// A malformed address is refused on the login page, before any lookup.
	pc.post("/login/email-code", url.Values{"email": {"not an address"}, "csrf_token": {csrfOf(t, known)}}, nil).
		wantStatus(t, 400).wantContains(t, `<title>Log in`, `role="alert"`)
	// No form token: refused, nothing mailed.
	pc.post("/login/email-code", url.Values{"email": {"jane_doe@example.com"}}, nil).wantStatus(t, http.StatusForbidden)
	pc.post("/login/code", url.Values{"email": {"jane_doe@example.com"}, "code": {code}}, nil).wantStatus(t, http.StatusForbidden)
	el.Wait()
	e.noMail()
}

// TestPagesMagicLink: "Email me a link" answers the same page for known
// and unknown addresses; the mailed link lands on /login/link, whose GET
// only shows a button (a mail scanner's GET spends nothing) and whose POST
// opens the page session and goes to the redirect_uri of the request.
func TestPagesMagicLink(t *testing.T) {
	e, el, pc := emailPagesEnv(t, emaillogin.Config{}, false)
	e.register("jane_doe")
	e.nextMail()

	sent := "If an account uses this address, a sign-in link is on its way."
	pc.post("/login/email-link", url.Values{"email": {"nobody@example.com"}, "csrf_token": {csrfOf(t, pc.get("/login"))}}, nil).
		wantStatus(t, 200).wantContains(t, sent)
	el.Wait()
	e.noMail()
	pc.post("/login/email-link", url.Values{"email": {"jane_doe@example.com"}, "redirect_uri": {"/app/welcome"},
		"csrf_token": {csrfOf(t, pc.get("/login?redirect_uri=/app/welcome"))}}, nil).wantStatus(t, 200).wantContains(t, sent)
	link, token := mailToken(t, e.nextMail())
	if !strings.HasPrefix(link, baseURL+"/login/link?token=") {
		t.Fatalf("mailed link %q, want the pages' landing", link)
	}

	// The GET (twice: a scanner, then the person) spends nothing.
	for range 2 {
		pc.get("/login/link?token="+url.QueryEscape(token)).wantStatus(t, 200).
			wantContains(t, `action="/login/link"`, `name="token" value="`+token+`"`, `<button type="submit">Sign in</button>`)
	}
	if pc.cookie(httpadapter.SessionCookie) != "" {
		t.Fatal("the landing's GET signed in")
	}
	land := pc.get("/login/link?token=" + url.QueryEscape(token))
	pc.post("/login/link", url.Values{"token": {token}, "csrf_token": {csrfOf(t, land)}}, nil).
		wantRedirect(t, http.StatusSeeOther, "/app/welcome")
	if pc.cookie(httpadapter.SessionCookie) == "" {
		t.Fatal("no session cookie after the link")
	}
	// Spent: the same link again is refused, with a way back.
	pc.post("/login/link", url.Values{"token": {token}, "csrf_token": {csrfOf(t, land)}}, nil).
		wantStatus(t, 401).wantContains(t, `role="alert"`, "ask for a new one", `href="/login"`)
	// A landing without a token, and a post without the form token.
	pc.get("/login/link").wantStatus(t, 400).wantContains(t, `role="alert"`)
	pc.post("/login/link", url.Values{"token": {token}}, nil).wantStatus(t, http.StatusForbidden)

	// A redirect_uri the pages do not allow is dropped, not mailed.
	pc.post("/login/email-link", url.Values{"email": {"jane_doe@example.com"}, "redirect_uri": {"https://evil.example/"},
		"csrf_token": {csrfOf(t, land)}}, nil).wantStatus(t, 200)
	_, token = mailToken(t, e.nextMail())
	land = pc.get("/login/link?token=" + url.QueryEscape(token))
	pc.post("/login/link", url.Values{"token": {token}, "csrf_token": {csrfOf(t, land)}}, nil).
		wantRedirect(t, http.StatusSeeOther, "/login")
}

// TestPagesMagicLinkTOTP: a link does not skip two-factor login: the
// landing's POST goes to /otp (keeping the redirect_uri), whose code opens
// the session.
func TestPagesMagicLinkTOTP(t *testing.T) {
	e, _, pc := emailPagesEnv(t, emaillogin.Config{}, false)
	a := e.register("totp_user")
	e.nextMail()
	r := e.do(request{method: "GET", path: "/api/auth/OTP/setup", token: a.AccessToken})
	var setup struct{ Secret string }
	r.decode(t, &setup)
	e.do(request{method: "PATCH", path: "/api/auth/OTP/authenticator?otp_code=" + totpCode(t, setup.Secret, e.clock.Now()), token: a.AccessToken}).wantStatus(t, 200)

	pc.post("/login/email-link", url.Values{"email": {"totp_user@example.com"}, "redirect_uri": {"/app"},
		"csrf_token": {csrfOf(t, pc.get("/login?redirect_uri=/app"))}}, nil).wantStatus(t, 200)
	_, token := mailToken(t, e.nextMail())
	land := pc.get("/login/link?token=" + url.QueryEscape(token))
	pc.post("/login/link", url.Values{"token": {token}, "csrf_token": {csrfOf(t, land)}}, nil).
		wantRedirect(t, http.StatusSeeOther, "/otp?method=authenticator&redirect_uri=%2Fapp")
	if pc.cookie(httpadapter.SessionCookie) != "" {
		t.Fatal("a link skipped the second factor")
	}
	e.clock.Advance(30e9)
	otpPage := pc.get("/otp?method=authenticator&redirect_uri=%2Fapp").wantStatus(t, 200)
	pc.post("/otp", url.Values{"otp_code": {totpCode(t, setup.Secret, e.clock.Now())}, "redirect_uri": {"/app"},
		"csrf_token": {csrfOf(t, otpPage)}}, nil).wantRedirect(t, http.StatusSeeOther, "/app")
	if pc.cookie(httpadapter.SessionCookie) == "" {
		t.Fatal("no session after the second step")
	}
}

// TestPagesEmailLoginOff: without the feature the login page shows no
// mail buttons and the forms answer the not-found page; with one method
// off, only the other's button shows.
func TestPagesEmailLoginOff(t *testing.T) {
	e := newSecEnvOpts(t, "sqlite://"+t.TempDir()+"/db.sqlite", nil, httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
	pc := newPageClient(t, e.h)
	login := pc.get("/login").wantStatus(t, 200)
	if strings.Contains(login.body, "Email me a") {
		t.Fatal("mail buttons without the feature")
	}
	for _, path := range []string{"/login/email-link", "/login/email-code", "/login/code", "/login/link"} {
		pc.post(path, url.Values{"email": {"a@example.com"}, "code": {"123456"}, "token": {"x"}, "csrf_token": {csrfOf(t, login)}}, nil).
			wantStatus(t, 404)
	}
	pc.get("/login/link?token=x").wantStatus(t, 404)

	_, _, pc = emailPagesEnv(t, emaillogin.Config{DisableLinks: true}, false)
	login = pc.get("/login").wantContains(t, "Email me a code")
	if strings.Contains(login.body, "Email me a link") {
		t.Fatal("the link button with links off")
	}
	pc.post("/login/email-link", url.Values{"email": {"a@example.com"}, "csrf_token": {csrfOf(t, login)}}, nil).wantStatus(t, 404)
}

// TestPagesEmailLimited: the request forms take the API's mail_send
// limits per address, answered with the limited page leading back to the
// login page.
func TestPagesEmailLimited(t *testing.T) {
	_, _, pc := emailPagesEnv(t, emaillogin.Config{}, true)
	csrf := csrfOf(t, pc.get("/login"))
	for range 5 {
		pc.post("/login/email-code", url.Values{"email": {"jane_doe@example.com"}, "csrf_token": {csrf}}, nil).wantStatus(t, 200)
	}
	pc.post("/login/email-code", url.Values{"email": {"jane_doe@example.com"}, "csrf_token": {csrf}}, nil).wantStatus(t, 429).
		wantContains(t, "<title>Too many attempts", "Try again in ", `href="/login"`)
	pc.post("/login/email-link", url.Values{"email": {"JANE_DOE@example.com"}, "csrf_token": {csrf}}, nil).wantStatus(t, 429)
}

// TestPagesEmailBadInput: malformed forms get a page with a 4xx, never a
// 500, and nothing is mailed.
func TestPagesEmailBadInput(t *testing.T) {
	e, el, pc := emailPagesEnv(t, emaillogin.Config{}, false)
	csrf := csrfOf(t, pc.get("/login"))
	long := strings.Repeat("a", 400) + "@example.com"
	for _, c := range []struct {
		path   string
		form   url.Values
		status int
	}{
		{"/login/email-code", url.Values{}, 422},
		{"/login/email-code", url.Values{"email": {long}}, 422},
		{"/login/email-link", url.Values{"email": {"a@b@c"}}, 400},
		{"/login/email-link", url.Values{"email": {""}}, 422},
		{"/login/code", url.Values{"email": {"jane_doe@example.com"}}, 422},
		{"/login/code", url.Values{"email": {"jane_doe@example.com"}, "code": {"12a456"}}, 401},
		{"/login/code", url.Values{"email": {"not an address"}, "code": {"123456"}}, 401},
		{"/login/link", url.Values{}, 422},
		{"/login/link", url.Values{"token": {strings.Repeat("x", 5000)}}, 401},
	} {
		c.form.Set("csrf_token", csrf)
		p := pc.post(c.path, c.form, nil)
		if p.status != c.status || !strings.Contains(p.body, `role="alert"`) {
			t.Errorf("POST %s %v: %d, want %d with the error shown\n%s", c.path, c.form, p.status, c.status, p.body)
		}
	}
	pc.get("/login/link?token="+strings.Repeat("x", 200)).wantStatus(t, 400)
	el.Wait()
	e.noMail()
}
