package httpadapter_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// pageClient is a browser without a script engine: a cookie jar over a
// TLS test server, following no redirects so that tests see them.
type pageClient struct {
	t    testing.TB
	c    *http.Client
	base string
}

// newPageClient serves e's handler over TLS and returns a client of it.
func newPageClient(t testing.TB, h http.Handler) *pageClient {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &pageClient{t: t, c: c, base: srv.URL}
}

// page is a response with its body read.
type page struct {
	status int
	header http.Header
	body   string
}

func (p page) String() string { return p.body }

func (pc *pageClient) do(method, path string, body io.Reader, header map[string]string) page {
	pc.t.Helper()
	req, err := http.NewRequest(method, pc.base+path, body)
	if err != nil {
		pc.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := pc.c.Do(req)
	if err != nil {
		pc.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		pc.t.Fatal(err)
	}
	return page{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (pc *pageClient) get(path string) page {
	pc.t.Helper()
	return pc.do("GET", path, nil, map[string]string{"Accept": "text/html"})
}

// submit posts a form, as a browser does from the page at path: it reads
// the page's CSRF token first.
func (pc *pageClient) submit(path string, form url.Values) page {
	pc.t.Helper()
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", csrfOf(pc.t, pc.get(path)))
	}
	return pc.post(path, form, nil)
}

func (pc *pageClient) post(path string, form url.Values, header map[string]string) page {
	pc.t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	return pc.do("POST", path, strings.NewReader(form.Encode()), h)
}

// cookie returns the value of a cookie the client holds, "" when none.
func (pc *pageClient) cookie(name string) string {
	u, _ := url.Parse(pc.base)
	for _, c := range pc.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrfOf returns the form token of a page.
func csrfOf(t testing.TB, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf_token in %d %s", p.status, p.body)
	}
	return m[1]
}

func (p page) wantStatus(t testing.TB, status int) page {
	t.Helper()
	if p.status != status {
		t.Fatalf("status = %d, want %d; body %s", p.status, status, p.body)
	}
	return p
}

func (p page) wantContains(t testing.TB, parts ...string) page {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page (%d) lacks %q:\n%s", p.status, s, p.body)
		}
	}
	return p
}

func (p page) wantRedirect(t testing.TB, status int, location string) {
	t.Helper()
	p.wantStatus(t, status)
	if got := p.header.Get("Location"); got != location {
		t.Fatalf("Location = %q, want %q", got, location)
	}
}

// signUpForm is the sign-up form of username.
func signUpForm(username string) url.Values {
	return url.Values{"username": {username}, "email": {username + "@example.com"},
		"password": {password}, "confirm_password": {password}}
}

func pagesEnv(t *testing.T, dsn string, po httpadapter.PagesOptions) *env {
	t.Helper()
	return newEnv(t, dsn, httpadapter.Options{Pages: &po})
}

func TestPagesSignUpLogOutLogIn(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := pagesEnv(t, b.dsn(t), httpadapter.PagesOptions{ProjectName: "Acme Accounts"})
			pc := newPageClient(t, e.h)

			reg := pc.get("/register").wantStatus(t, 200).wantContains(t, "<title>Create an account · Acme Accounts</title>",
				`<label for="username">`, `<label for="email">`, `<label for="password">`, `<label for="confirm_password">`,
				"Password must be at least 10 characters long")
			for name, want := range map[string]string{
				"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "X-Frame-Options": "DENY",
				"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self' " + baseURL + "; frame-ancestors 'none'; base-uri 'none'",
			} {
				if got := reg.header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			form := signUpForm("page_user")
			form.Set("csrf_token", csrfOf(t, reg))
			res := pc.post("/register", form, nil)
			res.wantRedirect(t, http.StatusSeeOther, "/login")
			wantSessionCookies(t, res.header, true)

			// Signed in: the login page says so, and the API takes the
			// cookie.
			pc.get("/login").wantStatus(t, 200).wantContains(t, "You are signed in as", "page_user@example.com", `action="/logout"`)
			me := pc.do("GET", "/api/user/me", nil, nil)
			if me.status != 200 || !strings.Contains(me.body, `"username":"page_user"`) {
				t.Fatalf("GET /api/user/me by cookie = %d %s", me.status, me.body)
			}

			pc.get("/logout").wantStatus(t, 200).wantContains(t, "page_user")
			out := pc.submit("/logout", url.Values{})
			out.wantRedirect(t, http.StatusSeeOther, "/login?logged_out=1")
			if pc.cookie(httpadapter.SessionCookie) != "" || pc.cookie(httpadapter.RefreshCookie) != "" {
				t.Fatal("logout left the session cookies")
			}
			pc.get("/login?logged_out=1").wantContains(t, "You have been logged out.")
			if r := pc.do("GET", "/api/user/me", nil, nil); r.status != 401 {
				t.Fatalf("after logout GET /api/user/me = %d %s", r.status, r.body)
			}

			// Log in again, by email, going on to an allowed target.
			bad := pc.submit("/login?redirect_uri=/app", url.Values{"username": {"page_user"}, "password": {"wrong-Passw0rd!"}, "redirect_uri": {"/app"}})
			bad.wantStatus(t, 401).wantContains(t, "Incorrect username/email or password", `value="page_user"`, `name="redirect_uri" value="/app"`)
			if strings.Contains(bad.body, "wrong-Passw0rd!") {
				t.Fatal("the page shows the password again")
			}
			pc.submit("/signin", url.Values{"username": {"PAGE_USER@example.com"}, "password": {password}, "redirect_uri": {"/app"}}).
				wantRedirect(t, http.StatusSeeOther, "/app")
			pc.get("/signup").wantContains(t, "You are signed in as")

			// A foreign target is ignored.
			pc.submit("/logout", url.Values{}).wantStatus(t, http.StatusSeeOther)
			pc.submit("/login", url.Values{"username": {"page_user"}, "password": {password}, "redirect_uri": {"https://evil.example/x"}}).
				wantRedirect(t, http.StatusSeeOther, "/login")
		})
	}
}

// wantSessionCookies checks the session cookies a login sets.
func wantSessionCookies(t testing.TB, h http.Header, secure bool) {
	t.Helper()
	got := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: h}).Cookies() {
		got[c.Name] = c
	}
	for _, name := range []string{httpadapter.SessionCookie, httpadapter.RefreshCookie, httpadapter.CSRFCookie} {
		c := got[name]
		if c == nil || c.Value == "" {
			t.Fatalf("no %s cookie in %v", name, h["Set-Cookie"])
		}
		if c.Path != "/" || c.SameSite != http.SameSiteLaxMode || c.Secure != secure || c.MaxAge <= 0 ||
			c.HttpOnly != (name != httpadapter.CSRFCookie) {
			t.Errorf("cookie %s = %s", name, c)
		}
	}
}

// TestPagesSameMessages: a page shows, with the same status, the detail
// the JSON API answers for the same input.
func TestPagesSameMessages(t *testing.T) {
	eachPagesBackend(t, func(t *testing.T, e *env, pc *pageClient) {
		e.register("taken_user")
		tests := []struct {
			name string
			path string
			form url.Values
			api  string
		}{
			{"passwords differ", "/register", func() url.Values { f := signUpForm("other_user"); f.Set("confirm_password", password+"x"); return f }(), "/api/auth/register"},
			{"weak password", "/register", func() url.Values {
				f := signUpForm("other_user")
				f.Set("password", "short")
				f.Set("confirm_password", "short")
				return f
			}(), "/api/auth/register"},
			{"bad username", "/register", signUpForm("No"), "/api/auth/register"},
			{"bad email", "/register", func() url.Values { f := signUpForm("other_user"); f.Set("email", "not-an-email"); return f }(), "/api/auth/register"},
			{"username taken", "/register", signUpForm("taken_user"), "/api/auth/register"},
			{"missing field", "/register", url.Values{"username": {"other_user"}}, "/api/auth/register"},
			{"unknown user", "/login", url.Values{"username": {"nobody_here"}, "password": {password}}, "/api/auth/login"},
			{"wrong password", "/login", url.Values{"username": {"taken_user"}, "password": {"Wr0ng!password"}}, "/api/auth/login"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				api := e.do(request{method: "POST", path: tt.api, form: tt.form})
				var body struct{ Detail string }
				api.decode(t, &body)
				form := url.Values{}
				for k, v := range tt.form {
					form[k] = v
				}
				res := pc.submit(tt.path, form).wantStatus(t, api.status)
				res.wantContains(t, `role="alert"`, templateEscape(body.Detail))
				if pc.cookie(httpadapter.SessionCookie) != "" {
					t.Fatal("a failed form set a session")
				}
			})
		}
	})
}

// templateEscape escapes s as html/template does in text.
func templateEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// eachPagesBackend runs fn per backend with the pages served over TLS.
func eachPagesBackend(t *testing.T, fn func(t *testing.T, e *env, pc *pageClient)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := pagesEnv(t, b.dsn(t), httpadapter.PagesOptions{})
			fn(t, e, newPageClient(t, e.h))
		})
	}
}
