package httpadapter_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/captcha"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// The hosted pages with the CAPTCHA feature: the widget on the guarded
// forms, the provider's origins in the pages' CSP, and the forms' answers.

func captchaPagesEnv(t *testing.T, provider string, cfg captcha.Config) (*captchaEnv, *pageClient) {
	t.Helper()
	ce := newCaptchaEnv(t, provider, cfg, httpadapter.Options{Pages: &httpadapter.PagesOptions{ProjectName: "Acme"}})
	return ce, newPageClient(t, ce.h)
}

func TestCaptchaPagesWidget(t *testing.T) {
	_, pc := captchaPagesEnv(t, "turnstile", captcha.Config{Register: true, Login: captcha.AlwaysOnLogin, ForgotPassword: true})
	for path, action := range map[string]string{"/login": "login", "/signin": "login", "/register": "register", "/forgot-password/request": "forgot_password"} {
		p := pc.get(path).wantStatus(t, http.StatusOK).wantContains(t,
			`<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script>`,
			`<div class="field cf-turnstile" data-sitekey="test-site-key" data-action="`+action+`"></div>`)
		csp := p.header.Get("Content-Security-Policy")
		for _, want := range []string{
			"script-src 'self' https://challenges.cloudflare.com;", "frame-src https://challenges.cloudflare.com;",
			"connect-src 'self' https://challenges.cloudflare.com;", "default-src 'none';", "frame-ancestors 'none'",
		} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		// The widget is in the form, before its button.
		form := p.body[strings.Index(p.body, "<form"):]
		if w, b := strings.Index(form, "cf-turnstile"), strings.Index(form, `<button type="submit">`); w < 0 || b < w {
			t.Errorf("%s: the widget is not inside the form before its button", path)
		}
	}
	// A page whose form is not guarded shows none.
	if p := pc.get("/logout"); strings.Contains(p.body, "cf-turnstile") || strings.Contains(p.body, "challenges.cloudflare.com/turnstile") {
		t.Errorf("/logout shows the widget:\n%s", p.body)
	}
}

func TestCaptchaPagesWidgetV3AndHCaptcha(t *testing.T) {
	_, pc := captchaPagesEnv(t, "recaptcha-v3", captcha.Config{Register: true})
	p := pc.get("/register").wantStatus(t, http.StatusOK).wantContains(t,
		`<script src="https://www.google.com/recaptcha/api.js?render=test-site-key" async defer></script>`,
		`<div data-captcha-invisible data-sitekey="test-site-key" data-action="register"><input type="hidden" name="captcha_token" value=""></div>`)
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' https://recaptcha.google.com https://www.google.com https://www.gstatic.com;") ||
		!strings.Contains(csp, "frame-src https://recaptcha.google.com https://www.google.com https://www.gstatic.com;") {
		t.Errorf("CSP %q lacks reCAPTCHA's origins", csp)
	}
	// Login is not guarded here: no widget on its page.
	if strings.Contains(pc.get("/login").body, "data-captcha-invisible") {
		t.Error("/login shows the widget of a guard that leaves login alone")
	}

	_, hc := captchaPagesEnv(t, "hcaptcha", captcha.Config{ForgotPassword: true})
	hc.get("/forgot-password/request").wantContains(t, `<script src="https://js.hcaptcha.com/1/api.js" async defer></script>`,
		`<div class="field h-captcha" data-sitekey="test-site-key"></div>`)
}

func TestCaptchaPagesForms(t *testing.T) {
	ce, pc := captchaPagesEnv(t, "turnstile", captcha.Config{Register: true, Login: captcha.AfterFailures(1), ForgotPassword: true})

	// Without the widget's token: the form again, with the message, the
	// fields kept and a fresh widget.
	form := signUpForm("page_user")
	res := pc.submit("/register", form)
	res.wantStatus(t, http.StatusBadRequest).wantContains(t, "Complete the CAPTCHA and try again.", `value="page_user"`, `class="field cf-turnstile"`)
	// The widget's own field carries the token.
	form = signUpForm("page_user")
	form.Set("cf-turnstile-response", "good")
	pc.submit("/register", form).wantRedirect(t, http.StatusSeeOther, "/login")
	pc.submit("/logout", url.Values{}).wantRedirect(t, http.StatusSeeOther, "/login?logged_out=1")

	// A login after a failure needs the CAPTCHA.
	pc.submit("/login", url.Values{"username": {"page_user"}, "password": {"wrong-Passw0rd!"}}).wantStatus(t, http.StatusUnauthorized)
	pc.submit("/login", url.Values{"username": {"page_user"}, "password": {password}}).
		wantStatus(t, http.StatusBadRequest).wantContains(t, "Complete the CAPTCHA", `value="page_user"`)
	pc.submit("/login", url.Values{"username": {"page_user"}, "password": {password}, "cf-turnstile-response": {"good"}}).
		wantRedirect(t, http.StatusSeeOther, "/login")

	// The form-token check comes first: a post without it is refused as
	// before, and the provider is not asked.
	before := len(ce.fake.calls())
	pc.post("/forgot-password/request", url.Values{"email": {"page_user@example.com"}, "cf-turnstile-response": {"good"}}, nil).
		wantStatus(t, http.StatusForbidden)
	if n := len(ce.fake.calls()); n != before {
		t.Fatalf("a post without its form token was sent to the provider (%d calls, want %d)", n, before)
	}
	pc.submit("/forgot-password/request", url.Values{"email": {"page_user@example.com"}}).wantStatus(t, http.StatusBadRequest)
	pc.submit("/forgot-password/request", url.Values{"email": {"page_user@example.com"}, "cf-turnstile-response": {"good"}}).
		wantStatus(t, http.StatusOK).wantContains(t, "cannot mail a password reset link")
}
