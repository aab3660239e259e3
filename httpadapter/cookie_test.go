package httpadapter_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// signedIn signs a new user up through the pages and returns the client
// holding its session cookies.
func signedIn(t *testing.T, e *env, username string) *pageClient {
	t.Helper()
	pc := newPageClient(t, e.h)
	pc.submit("/register", signUpForm(username)).wantRedirect(t, http.StatusSeeOther, "/login")
	return pc
}

func TestPagesCSRF(t *testing.T) {
	eachPagesBackend(t, func(t *testing.T, e *env, pc *pageClient) {
		e.register("csrf_user")
		other := newPageClient(t, e.h)
		foreignToken := csrfOf(t, other.get("/login"))
		login := url.Values{"username": {"csrf_user"}, "password": {password}}
		with := func(extra map[string]string) url.Values {
			v := url.Values{}
			for k, s := range login {
				v[k] = s
			}
			for k, s := range extra {
				v.Set(k, s)
			}
			return v
		}
		token := csrfOf(t, pc.get("/login"))
		tests := []struct {
			name   string
			form   url.Values
			header map[string]string
			status int
		}{
			{"no token", login, nil, 403},
			{"another browser's token", with(map[string]string{"csrf_token": foreignToken}), nil, 403},
			{"tampered token", with(map[string]string{"csrf_token": token[:len(token)-2] + "AA"}), nil, 403},
			{"cross-site fetch", with(map[string]string{"csrf_token": token}), map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
			{"same-site fetch", with(map[string]string{"csrf_token": token}), map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
			{"foreign origin", with(map[string]string{"csrf_token": token}), map[string]string{"Origin": "https://evil.example"}, 403},
			{"JSON body", with(map[string]string{"csrf_token": token}), map[string]string{"Content-Type": "application/json"}, 415},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := pc.post("/login", tt.form, tt.header).wantStatus(t, tt.status)
				if tt.status == 403 {
					res.wantContains(t, "Cross-site request refused", `value="csrf_user"`)
					csrfOf(t, res) // a fresh token to submit again
				}
				if pc.cookie(httpadapter.SessionCookie) != "" {
					t.Fatal("a refused form set a session")
				}
			})
		}
		// The same browser, same origin, with its token: accepted.
		pc.post("/login", with(map[string]string{"csrf_token": token}), map[string]string{"Sec-Fetch-Site": "same-origin"}).
			wantRedirect(t, http.StatusSeeOther, "/login")
		// Logout is a form too; refused, it still shows who is signed in.
		pc.post("/logout", url.Values{}, nil).wantStatus(t, 403).wantContains(t, "csrf_user@example.com", "Cross-site request refused")
		if pc.cookie(httpadapter.SessionCookie) == "" {
			t.Fatal("a refused logout ended the session")
		}

		// Logging in again ends the session the browser held.
		old := pc.cookie(httpadapter.SessionCookie)
		pc.submit("/login", url.Values{"username": {"csrf_user"}, "password": {password}}).wantStatus(t, http.StatusSeeOther)
		if got := e.do(request{method: "GET", path: "/api/auth/token/validate", token: old}); got.status != 401 {
			t.Fatalf("the previous session survived a new login: %s", got)
		}
		pc.get("/logout").wantContains(t, "csrf_user@example.com")
	})
}

func TestCookieAuthAPI(t *testing.T) {
	eachPagesBackend(t, func(t *testing.T, e *env, _ *pageClient) {
		pc := signedIn(t, e, "cookie_user")
		csrf := pc.cookie(httpadapter.CSRFCookie)
		if csrf == "" {
			t.Fatal("no CSRF cookie")
		}
		other := e.register("other_user")

		tests := []struct {
			name   string
			method string
			path   string
			header map[string]string
			status int
			code   string
		}{
			{"safe method needs no token", "GET", "/api/user/me", nil, 200, ""},
			{"unsafe method without token", "POST", "/api/auth/logout", nil, 403, "csrf_failed"},
			{"wrong token", "POST", "/api/auth/logout", map[string]string{"X-CSRF-Token": "x" + csrf}, 403, "csrf_failed"},
			{"another session's token", "DELETE", "/api/auth/sessions/00000000-0000-4000-8000-000000000000",
				map[string]string{"X-CSRF-Token": httpadapter.CSRFToken(e.m, e.principal(other.AccessToken))}, 403, "csrf_failed"},
			{"cross-site with token", "POST", "/api/auth/logout", map[string]string{"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"}, 403, "csrf_failed"},
			{"bearer wins, no token needed", "GET", "/api/auth/token/validate", map[string]string{"Authorization": "Bearer " + other.AccessToken}, 200, ""},
			{"token from the cookie", "POST", "/api/auth/logout", map[string]string{"X-CSRF-Token": csrf}, 200, ""},
			{"after logout", "GET", "/api/user/me", nil, 401, "session_revoked"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := pc.do(tt.method, tt.path, nil, tt.header)
				if res.status != tt.status || !strings.Contains(res.body, tt.code) {
					t.Fatalf("%s %s = %d %s, want %d %s", tt.method, tt.path, res.status, res.body, tt.status, tt.code)
				}
			})
		}
		if pc.cookie(httpadapter.SessionCookie) != "" {
			t.Fatal("a revoked session's cookies were not cleared")
		}
		if got := e.do(request{method: "GET", path: "/api/auth/token/validate", token: other.AccessToken}); got.status != 200 {
			t.Fatalf("the bearer's session suffered: %s", got)
		}
	})
}

func TestCookieRefresh(t *testing.T) {
	eachPagesBackend(t, func(t *testing.T, e *env, _ *pageClient) {
		pc := signedIn(t, e, "refresh_user")
		access, refresh := pc.cookie(httpadapter.SessionCookie), pc.cookie(httpadapter.RefreshCookie)

		// The access token expires; the next request renews it.
		e.clock.Advance(16 * time.Minute)
		res := pc.do("GET", "/api/user/me", nil, nil)
		if res.status != 200 {
			t.Fatalf("GET /api/user/me after expiry = %d %s", res.status, res.body)
		}
		wantSessionCookies(t, res.header, true)
		if pc.cookie(httpadapter.SessionCookie) == access || pc.cookie(httpadapter.RefreshCookie) == refresh {
			t.Fatal("the cookies were not renewed")
		}
		// Without the access cookie (the browser dropped it), the refresh
		// cookie alone signs in.
		u, _ := url.Parse(pc.base)
		pc.c.Jar.SetCookies(u, []*http.Cookie{{Name: httpadapter.SessionCookie, Value: "", MaxAge: -1, Path: "/"}})
		pc.get("/logout").wantContains(t, "refresh_user@example.com")

		// The host's own routes, behind the guard, take the cookies and
		// the CSRF header the same way.
		mux := http.NewServeMux()
		mux.Handle("/", e.h)
		mux.Handle("/app/", httpadapter.RequireAuth(e.m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, _ := httpadapter.CurrentUser(r.Context())
			_, _ = w.Write([]byte("hello " + u.Username))
		})))
		host := newPageClient(t, mux)
		host.c.Jar = pc.c.Jar // cookies are per host, not per port: the same browser
		if r := host.do("GET", "/app/home", nil, nil); r.status != 200 || r.body != "hello refresh_user" {
			t.Fatalf("guarded GET = %d %s", r.status, r.body)
		}
		if r := host.do("POST", "/app/do", nil, nil); r.status != 403 {
			t.Fatalf("guarded POST without token = %d %s", r.status, r.body)
		}
		if r := host.do("POST", "/app/do", nil, map[string]string{"X-CSRF-Token": host.cookie(httpadapter.CSRFCookie)}); r.status != 200 {
			t.Fatalf("guarded POST with token = %d %s", r.status, r.body)
		}

		// A session past its lifetime is gone, and so are its cookies.
		e.clock.Advance(31 * 24 * time.Hour)
		if r := pc.do("GET", "/api/user/me", nil, nil); r.status != 401 {
			t.Fatalf("GET /api/user/me after the session = %d %s", r.status, r.body)
		}
		if pc.cookie(httpadapter.RefreshCookie) != "" {
			t.Fatal("dead cookies kept")
		}
		pc.get("/login").wantContains(t, `action="/login"`)
	})
}

// TestCookieNotSecureOverHTTP: a plain-http site (BaseURL http, no TLS)
// gets cookies without Secure, which browsers would drop there.
func TestCookieNotSecureOverHTTP(t *testing.T) {
	e := newEnvAt(t, backends[0].dsn(t), "http://localhost:8000", httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
	get := httptest.NewRequest("GET", "/register", nil)
	form := serve(t, e.h, get)
	nonce := (&http.Response{Header: form.header}).Cookies()
	if len(nonce) != 1 || nonce[0].Secure || !nonce[0].HttpOnly {
		t.Fatalf("form cookie = %v", form.header["Set-Cookie"])
	}
	f := signUpForm("plain_user")
	f.Set("csrf_token", csrfOf(t, page{body: string(form.body)}))
	post := httptest.NewRequest("POST", "/register", strings.NewReader(f.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(nonce[0])
	res := serve(t, e.h, post)
	res.wantStatus(t, http.StatusSeeOther)
	wantSessionCookies(t, res.header, false)
}

// principal resolves an access token.
func (e *env) principal(token string) *usermgmt.Principal {
	e.t.Helper()
	p, err := e.m.Authenticate(context.Background(), token)
	if err != nil {
		e.t.Fatalf("Authenticate: %v", err)
	}
	return p
}
