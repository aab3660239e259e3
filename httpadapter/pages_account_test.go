package httpadapter_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// eachPagesMailBackend runs fn per backend with the pages served over TLS
// by a Manager that mails to memory; edit, when not nil, changes the
// Config first.
func eachPagesMailBackend(t *testing.T, edit func(*usermgmt.Config), fn func(t *testing.T, e *secEnv, pc *pageClient)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newSecEnvOpts(t, b.dsn(t), edit, httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
			fn(t, e, newPageClient(t, e.h))
		})
	}
}

// noFrontend leaves FrontendURL to its default, the BaseURL: the pages
// are the front end.
func noFrontend(c *usermgmt.Config) { c.FrontendURL = "" }

// cookieOf returns the named cookie a response sets, nil when none.
func cookieOf(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// apiMessage returns the message the JSON API answers r with.
func apiMessage(t testing.TB, e *env, q request, status int, code string) string {
	t.Helper()
	return e.do(q).wantError(t, status, code)
}

func TestPagesTwoFactor(t *testing.T) {
	eachPagesMailBackend(t, nil, func(t *testing.T, e *secEnv, pc *pageClient) {
		a := e.register("otp_page")
		e.nextMail()
		e.do(request{method: "POST", path: "/api/auth/OTP/email/send", token: a.AccessToken}).wantStatus(t, 200)
		r := e.do(request{method: "PATCH", path: "/api/auth/OTP/email?otp_code=" + mailCode(t, e.nextMail()), token: a.AccessToken})
		r.wantStatus(t, 200)
		recovery := r.object(t)["recovery_codes"].([]any)[0].(string)

		// The password leads to /otp, the challenge in an HttpOnly cookie
		// for /otp alone; the redirect_uri is carried.
		login := url.Values{"username": {"otp_page"}, "password": {password}, "redirect_uri": {"/logout"}}
		p := pc.submit("/login", login)
		p.wantRedirect(t, http.StatusSeeOther, "/otp?method=email&redirect_uri=%2Flogout")
		c := cookieOf(p.header, "usermgmt_otp")
		if c == nil || !c.HttpOnly || !c.Secure || c.Path != "/otp" || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 300 {
			t.Fatalf("challenge cookie %+v", c)
		}
		if cookieOf(p.header, httpadapter.SessionCookie) != nil {
			t.Fatal("a session before the second step")
		}
		code := mailCode(t, e.nextMail())
		form := pc.get("/otp?method=email&redirect_uri=%2Flogout").wantStatus(t, 200).
			wantContains(t, "<title>Two-factor login", "The code we emailed you", `name="redirect_uri" value="/logout"`, `autocomplete="one-time-code"`)

		// A wrong code: the message in plain words (issue 15 item 9), no
		// session.
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		p = pc.post("/otp", url.Values{"csrf_token": {csrfOf(t, form)}, "otp_code": {wrong}, "redirect_uri": {"/logout"}}, nil)
		p.wantStatus(t, 401).wantContains(t, `role="alert"`, "That code is not right, or it has expired.")
		if pc.cookie(httpadapter.SessionCookie) != "" {
			t.Fatal("a wrong code signed in")
		}
		// No code: the API's field message.
		pc.submit("/otp", url.Values{"redirect_uri": {"/logout"}}).wantStatus(t, 422).wantContains(t, "otp_code: field required")

		// The right code signs in and goes on.
		pc.submit("/otp", url.Values{"otp_code": {code}, "redirect_uri": {"/logout"}}).wantRedirect(t, http.StatusSeeOther, "/logout")
		if pc.cookie("usermgmt_otp") != "" || pc.cookie(httpadapter.SessionCookie) == "" {
			t.Fatalf("after the code: otp cookie %q, session %q", pc.cookie("usermgmt_otp"), pc.cookie(httpadapter.SessionCookie))
		}
		pc.get("/login").wantContains(t, "You are signed in as")

		// A recovery code works too, once.
		pc.submit("/logout", url.Values{}).wantStatus(t, http.StatusSeeOther)
		pc.submit("/login", url.Values{"username": {"otp_page"}, "password": {password}}).wantRedirect(t, http.StatusSeeOther, "/otp?method=email")
		e.nextMail()
		pc.submit("/otp", url.Values{"otp_code": {recovery}}).wantRedirect(t, http.StatusSeeOther, "/login")
		pc.get("/login").wantContains(t, "You are signed in as")

		// Without a pending login, /otp leads to /login, and its form says so.
		fresh := newPageClient(t, e.h)
		fresh.get("/otp?redirect_uri=%2Fapp").wantRedirect(t, http.StatusTemporaryRedirect, "/login?redirect_uri=%2Fapp")
		fresh.post("/otp", url.Values{"csrf_token": {csrfOf(t, fresh.get("/login"))}, "otp_code": {"123456"}}, nil).wantStatus(t, 401).wantContains(t, "Your login has expired")
	})
}

func TestPagesForgotPassword(t *testing.T) {
	eachPagesMailBackend(t, noFrontend, func(t *testing.T, e *secEnv, pc *pageClient) {
		e.register("forgot_page")
		e.nextMail()
		pc.get("/login").wantContains(t, `href="/forgot-password/request"`)
		pc.get("/forgot-password/request").wantStatus(t, 200).wantContains(t, "<title>Forgot your password?", `name="email"`, `name="username"`)

		// The same answer for an unknown account, and no mail.
		const sent = "If this account exists, a password reset link was sent to its email address."
		pc.submit("/forgot-password/request", url.Values{"email": {"nobody@example.com"}}).wantStatus(t, 200).wantContains(t, sent)
		e.noMail()
		msg := apiMessage(t, e.env, request{method: "POST", path: "/api/auth/forgot-password/request", form: url.Values{}}, 422, "invalid_request")
		pc.submit("/forgot-password/request", url.Values{}).wantStatus(t, 422).wantContains(t, templateEscape(msg))

		p := pc.submit("/forgot-password/request", url.Values{"email": {"forgot_page@example.com"}}).wantStatus(t, 200).wantContains(t, sent)
		if strings.Contains(p.body, `action="/forgot-password/request"`) {
			t.Fatal("the form is shown again after sending")
		}
		// The mailed link opens the reset page (FRONTEND_URL unset: the
		// default template is BASE_URL/forgot-password/reset).
		link, token := mailToken(t, e.nextMail())
		if !strings.HasPrefix(link, baseURL+"/forgot-password/reset?token=") {
			t.Fatalf("reset link %s", link)
		}
		pc.get(pathOf(t, link)).wantStatus(t, 200).wantContains(t, "<title>Choose a new password", `name="token" value="`+token+`"`, `autocomplete="new-password"`)
		pc.get("/forgot-password/reset").wantContains(t, "This reset link is incomplete")

		// A refused password: the API's message, the link still good.
		const newPassword = "N3w-passw0rd!"
		bad := url.Values{"token": {token}, "new_password": {newPassword}, "confirm_password": {newPassword + "x"}}
		msg = apiMessage(t, e.env, request{method: "POST", path: "/api/auth/forgot-password/reset", form: bad}, 400, "password_mismatch")
		pc.submit(pathOf(t, link), bad).wantStatus(t, 400).wantContains(t, templateEscape(msg), `name="token" value="`+token+`"`)

		good := url.Values{"token": {token}, "new_password": {newPassword}, "confirm_password": {newPassword}}
		pc.submit(pathOf(t, link), good).wantRedirect(t, http.StatusSeeOther, "/login?password_reset=1")
		pc.get("/login?password_reset=1").wantContains(t, "Your password has been reset")
		e.nextMail() // the notice
		pc.submit(pathOf(t, link), good).wantStatus(t, 401)
		pc.submit("/login", url.Values{"username": {"forgot_page"}, "password": {password}}).wantStatus(t, 401)
		pc.submit("/login", url.Values{"username": {"forgot_page"}, "password": {newPassword}}).wantRedirect(t, http.StatusSeeOther, "/login")
	})
}

func TestPagesChangePassword(t *testing.T) {
	eachPagesMailBackend(t, noFrontend, func(t *testing.T, e *secEnv, pc *pageClient) {
		// Signed out, the pages send the browser to log in and back.
		pc.get("/reset-password/reset").wantRedirect(t, http.StatusSeeOther, "/login?redirect_uri=%2Freset-password%2Freset")
		pc.get("/reset-password/request").wantRedirect(t, http.StatusSeeOther, "/login?redirect_uri=%2Freset-password%2Frequest")

		pc.submit("/register", signUpForm("change_page")).wantStatus(t, http.StatusSeeOther)
		e.nextMail()
		other := e.login("change_page") // another session, which the change ends
		pc.get("/login").wantContains(t, `href="/reset-password/reset"`)
		pc.get("/reset-password/reset").wantStatus(t, 200).wantContains(t, "<title>Change your password", `name="old_password"`)

		const newPassword = "Ch4nged-passw0rd"
		wrong := url.Values{"old_password": {"Wrong-passw0rd"}, "new_password": {newPassword}, "confirm_password": {newPassword}}
		msg := apiMessage(t, e.env, request{method: "PATCH", path: "/api/auth/password", token: other.AccessToken, form: wrong}, 400, "invalid_password")
		pc.submit("/reset-password/reset", wrong).wantStatus(t, 400).wantContains(t, templateEscape(msg))

		ok := url.Values{"old_password": {password}, "new_password": {newPassword}, "confirm_password": {newPassword}}
		pc.submit("/reset-password/reset", ok).wantStatus(t, 200).wantContains(t, "Your password has been changed")
		e.nextMail() // the notice
		pc.get("/login").wantContains(t, "You are signed in as")
		e.do(request{method: "GET", path: "/api/user/me", token: other.AccessToken}).wantStatus(t, 401)

		// The signed-in reset request mails a link to the reset page.
		pc.get("/reset-password/request").wantStatus(t, 200).wantContains(t, "change_page@example.com")
		pc.submit("/reset-password/request", url.Values{}).wantStatus(t, 200).wantContains(t, "A password reset link was sent")
		if link, _ := mailToken(t, e.nextMail()); !strings.HasPrefix(link, baseURL+"/forgot-password/reset?token=") {
			t.Fatalf("reset link %s", link)
		}
	})
}

func TestPagesEmailVerifiedRedirect(t *testing.T) {
	eachPagesMailBackend(t, noFrontend, func(t *testing.T, e *secEnv, _ *pageClient) {
		e.register("verify_page")
		link, _ := mailToken(t, e.nextMail())
		e.do(request{method: "GET", path: pathOf(t, link)}).wantStatus(t, http.StatusTemporaryRedirect)
		r := e.do(request{method: "GET", path: pathOf(t, link)})
		if r.status != http.StatusTemporaryRedirect || r.header.Get("Location") != "/email-verified?error=1" {
			t.Fatalf("a spent link: %d %s", r.status, r.header.Get("Location"))
		}
		// An allow-listed redirect still wins; a missing token is still 422.
		e.do(request{method: "GET", path: "/api/auth/email/verify"}).wantError(t, 422, "invalid_request")
	})
	// The first answer, and a FRONTEND_URL of its own, which still wins.
	for _, tt := range []struct {
		name string
		edit func(*usermgmt.Config)
		want string
	}{
		{"pages", noFrontend, "/email-verified"},
		{"frontend", nil, "https://app.example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newSecEnvOpts(t, backends[0].dsn(t), tt.edit, httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
			e.register("verify_first")
			link, _ := mailToken(t, e.nextMail())
			r := e.do(request{method: "GET", path: pathOf(t, link)})
			if r.status != http.StatusTemporaryRedirect || r.header.Get("Location") != tt.want {
				t.Fatalf("verify: %d %s, want %s", r.status, r.header.Get("Location"), tt.want)
			}
		})
	}
}
