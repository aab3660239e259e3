package httpadapter_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// FuzzPages throws arbitrary form posts, cookies and CSRF headers at the
// pages and at cookie-authenticated API routes: nothing may cause a 5xx.
func FuzzPages(f *testing.F) {
	e := newEnv(f, backends[0].dsn(f), httpadapter.Options{MaxBodyBytes: 1 << 14, Pages: &httpadapter.PagesOptions{}})

	// A real browser session to start from.
	form := serve(f, e.h, httptest.NewRequest("GET", "/register", nil))
	nonce := (&http.Response{Header: form.header}).Cookies()[0].Value
	token := csrfOf(f, page{body: string(form.body)})
	su := signUpForm("fuzz_page_user")
	su.Set("csrf_token", token)
	post := httptest.NewRequest("POST", "/register", strings.NewReader(su.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(&http.Cookie{Name: "usermgmt_form", Value: nonce})
	jar := map[string]string{}
	for _, c := range (&http.Response{Header: serve(f, e.h, post).header}).Cookies() {
		jar[c.Name] = c.Value
	}

	paths := []string{"/login", "/register", "/logout", "/signin", "/api/auth/logout", "/api/user/me", "/email-verified?error=1", "/pages/x",
		"/otp?method=email", "/forgot-password/request", "/forgot-password/reset?token=x", "/reset-password/request",
		"/reset-password/reset", "/login/github", "/api/oauth/github/link", "/api/oauth/github/callback?state=x&code=y",
		"/account", "/account/profile", "/account/sessions/revoke", "/account/unlink", "/account/link/github", "/account/two-factor",
		"/account/two-factor?method=authenticator", "/account/two-factor/email", "/account/two-factor/qr.png", "/account/passkeys",
		"/account/passkeys/rename", "/account/passkeys/remove", "/login/passkey", "/account/delete"}
	for i, p := range paths {
		body := "username=fuzz_page_user&password=Passw0rd!x&csrf_token=" + token + "&redirect_uri=/app" +
			"&otp_code=123456&email=fuzz_page_user@example.com&token=x&old_password=Passw0rd!x&new_password=N3w-passw0rd&confirm_password=N3w-passw0rd" +
			"&display_name=Fuzz Page User&session_id=x&provider=github&method=authenticator&ceremony=x&credential={}&id=x&name=n"
		f.Add("POST", p, body, jar[httpadapter.SessionCookie], jar[httpadapter.RefreshCookie], jar[httpadapter.CSRFCookie], nonce, i%2 == 0)
		f.Add("GET", p, "", "x", jar[httpadapter.RefreshCookie], "", "", i%2 == 1)
	}
	f.Fuzz(func(t *testing.T, method, target, body, access, refresh, csrf, formNonce string, crossSite bool) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t\x00#") {
			return
		}
		r, err := safeRequest(method, target, []byte(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for name, v := range map[string]string{httpadapter.SessionCookie: access, httpadapter.RefreshCookie: refresh, "usermgmt_form": formNonce} {
			if v != "" && cookieSafe(v) {
				r.AddCookie(&http.Cookie{Name: name, Value: v})
			}
		}
		if csrf != "" && !strings.ContainsAny(csrf, "\r\n\x00") {
			r.Header.Set(httpadapter.CSRFHeader, csrf)
		}
		if crossSite {
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q → %d %s", method, target, body, rec.Code, rec.Body)
		}
	})
}

// cookieSafe reports whether v can travel in a Cookie header as is.
func cookieSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' || c == ',' {
			return false
		}
	}
	return true
}
