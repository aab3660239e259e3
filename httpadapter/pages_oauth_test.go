package httpadapter_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// pageFlow is a flow begun from the pages: the provider's page and the
// cookies the browser holds.
type pageFlow struct {
	location string
	cookies  map[string]string
}

// cookieHeader returns the Cookie header of cookies.
func cookieHeader(cookies map[string]string) map[string]string {
	var parts []string
	for name, v := range cookies {
		parts = append(parts, name+"="+v)
	}
	return map[string]string{"Cookie": strings.Join(parts, "; ")}
}

// startPage begins a flow at path (a provider button, or the link route
// with a session cookie in header) and returns it.
func (e *oauthEnv) startPage(t *testing.T, path string, header map[string]string) pageFlow {
	t.Helper()
	r := e.do(request{method: "GET", path: path, header: header})
	r.wantStatus(t, http.StatusFound)
	f := pageFlow{location: r.header.Get("Location"), cookies: map[string]string{}}
	for _, name := range []string{"usermgmt_oauth", "usermgmt_oauth_page"} {
		c := cookieOf(r.header, name)
		if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/api/oauth/" || c.MaxAge != 600 {
			t.Fatalf("cookie %s: %+v", name, c)
		}
		f.cookies[name] = c.Value
	}
	return f
}

// finish consents at the fake as id and makes the callback request with
// cookies.
func (e *oauthEnv) finish(t *testing.T, provider string, f pageFlow, id string, cookies map[string]string) result {
	t.Helper()
	fake := e.fakes[provider]
	fake.SetIdentity(identity(provider, 1, id))
	cb, err := fake.Authorize(f.location)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(request{method: "GET", path: strings.TrimPrefix(cb, baseURL), header: cookieHeader(cookies)})
}

func TestPagesOAuth(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		e.h = httpadapter.New(e.m, httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
		pc := newPageClient(t, e.h)

		// A button per provider, on both pages, carrying the redirect_uri.
		for _, path := range []string{"/login?redirect_uri=%2Flogout", "/register?redirect_uri=%2Flogout"} {
			p := pc.get(path).wantStatus(t, 200)
			for _, want := range []string{"GitHub", "Discord", "Google", "Twitch", "GitLab", "Microsoft", "Okta"} {
				p.wantContains(t, "Continue with "+want)
			}
			p.wantContains(t, `href="/login/github?redirect_uri=%2Flogout"`)
		}

		// A flow begun from a button ends signed in on the pages: session
		// cookies and a redirect, no token in the URL or the body.
		f := e.startPage(t, "/login/github?redirect_uri=%2Flogout", nil)
		r := e.finish(t, "github", f, "page.user@example.com", f.cookies)
		r.wantStatus(t, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != "/logout" {
			t.Fatalf("Location %q", loc)
		}
		wantSessionCookies(t, r.header, true)
		if strings.Contains(string(r.body), "access_token") {
			t.Fatalf("tokens in the body: %s", r.body)
		}
		if del := cookieOf(r.header, "usermgmt_oauth_page"); del == nil || del.MaxAge >= 0 {
			t.Fatalf("page-flow cookie not deleted: %+v", del)
		}
		uuid := e.whoami(cookieOf(r.header, httpadapter.SessionCookie).Value)

		// A foreign redirect_uri is dropped for AfterLogin.
		f = e.startPage(t, "/login/discord?redirect_uri="+url.QueryEscape("https://evil.example/"), nil)
		if r := e.finish(t, "discord", f, "d@example.com", f.cookies); r.header.Get("Location") != "/login" {
			t.Fatalf("foreign redirect: %d %s", r.status, r.header.Get("Location"))
		}

		// Without the page-flow cookie, or with one of another flow or
		// another target, the callback answers as the API does.
		f = e.startPage(t, "/login/github", nil)
		other := e.startPage(t, "/login/github", nil)
		forged := f.cookies["usermgmt_oauth_page"]
		mac, _, _ := strings.Cut(forged, ".")
		for name, cookies := range map[string]map[string]string{
			"none":         {"usermgmt_oauth": f.cookies["usermgmt_oauth"]},
			"other flow":   {"usermgmt_oauth": f.cookies["usermgmt_oauth"], "usermgmt_oauth_page": other.cookies["usermgmt_oauth_page"]},
			"other target": {"usermgmt_oauth": f.cookies["usermgmt_oauth"], "usermgmt_oauth_page": mac + ".L2V2aWw"},
			"garbage":      {"usermgmt_oauth": f.cookies["usermgmt_oauth"], "usermgmt_oauth_page": "x.%%%"},
		} {
			f = e.startPage(t, "/login/github", nil)
			cookies["usermgmt_oauth"] = f.cookies["usermgmt_oauth"]
			r := e.finish(t, "github", f, "page.user@example.com", cookies)
			if r.status != http.StatusOK || cookieOf(r.header, httpadapter.SessionCookie) != nil || e.whoami(r.tokens(t).AccessToken) != uuid {
				t.Fatalf("%s: %d %v %s", name, r.status, r.header, r.body)
			}
		}

		// A refused flow shows the login page with the error.
		f = e.startPage(t, "/login/google", nil)
		r = e.do(request{method: "GET", path: "/api/oauth/google/callback?error=access_denied&state=x", header: cookieHeader(f.cookies)})
		if r.status < 400 || r.status >= 500 || !strings.Contains(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), `role="alert"`) {
			t.Fatalf("refused flow: %d %s", r.status, r.body)
		}
		// An unknown provider: the login page, 404.
		if r := e.do(request{method: "GET", path: "/login/nope"}); r.status != 404 || !strings.Contains(string(r.body), usermgmt.ErrUnsupportedProvider.Message) {
			t.Fatalf("unknown provider: %d %s", r.status, r.body)
		}

		// GET /oauth/{provider}/link with the session cookie links, and ends
		// back on the pages with the browser's session unchanged.
		tk := e.login(t, "github", identity("github", 1, "page.user@example.com")).tokens(t)
		own := map[string]string{"Cookie": httpadapter.SessionCookie + "=" + tk.AccessToken}
		f = e.startPage(t, "/api/oauth/okta/link", own)
		f.cookies[httpadapter.SessionCookie] = tk.AccessToken
		r = e.finish(t, "okta", f, "okta.user@example.com", f.cookies)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" || cookieOf(r.header, httpadapter.SessionCookie) != nil {
			t.Fatalf("link: %d %v %s", r.status, r.header, r.body)
		}
		if e.whoami(e.login(t, "okta", identity("okta", 1, "okta.user@example.com")).tokens(t).AccessToken) != uuid {
			t.Fatal("the link did not reach the signed-in user")
		}
		// With a redirect_uri it ends there, as the API's link flows.
		r = e.do(request{method: "GET", path: "/api/oauth/twitch/link?redirect_uri=" + url.QueryEscape(appURL), header: own})
		r.wantStatus(t, http.StatusFound)
		if cookieOf(r.header, "usermgmt_oauth_page") != nil {
			t.Fatal("a page-flow cookie for a flow with a redirect_uri")
		}
		// Signed out, from another site, or to a foreign redirect: refused.
		e.do(request{method: "GET", path: "/api/oauth/okta/link"}).wantError(t, 401, "not_authenticated")
		e.do(request{method: "GET", path: "/api/oauth/okta/link", header: map[string]string{"Cookie": own["Cookie"], "Sec-Fetch-Site": "cross-site"}}).wantError(t, 403, "csrf_failed")
		e.do(request{method: "GET", path: "/api/oauth/okta/link?redirect_uri=https%3A%2F%2Fevil.example%2F", token: tk.AccessToken}).wantError(t, 400, "redirect_not_allowed")
	})
}
