package httpadapter_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// pageSession signs a user up through the pages and returns its cookies.
func pageSession(b *testing.B, e *env) []*http.Cookie {
	b.Helper()
	form := serve(b, e.h, httptest.NewRequest("GET", "/register", nil))
	nonce := (&http.Response{Header: form.header}).Cookies()
	f := signUpForm("bench_page_user")
	f.Set("csrf_token", csrfOf(b, page{body: string(form.body)}))
	post := httptest.NewRequest("POST", "/register", strings.NewReader(f.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(nonce[0])
	res := serve(b, e.h, post)
	if res.status != http.StatusSeeOther {
		b.Fatalf("sign-up = %s", res)
	}
	return (&http.Response{Header: res.header}).Cookies()
}

// BenchmarkUserMeCookie is BenchmarkUserMe authenticated by the session
// cookie instead of a bearer header (warm cache, no database query).
func BenchmarkUserMeCookie(b *testing.B) {
	e := newEnv(b, backends[0].dsn(b), httpadapter.Options{Logger: slog.New(slog.DiscardHandler), Pages: &httpadapter.PagesOptions{}})
	r := httptest.NewRequest("GET", "/api/user/me", nil)
	for _, c := range pageSession(b, e) {
		r.AddCookie(c)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatalf("GET /api/user/me = %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkLoginPage measures rendering the login page for a browser that
// holds its form cookie already.
func BenchmarkLoginPage(b *testing.B) {
	e := newEnv(b, backends[0].dsn(b), httpadapter.Options{Logger: slog.New(slog.DiscardHandler), Pages: &httpadapter.PagesOptions{}})
	first := serve(b, e.h, httptest.NewRequest("GET", "/login", nil))
	r := httptest.NewRequest("GET", "/login", nil)
	r.AddCookie((&http.Response{Header: first.header}).Cookies()[0])
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatalf("GET /login = %d", rec.Code)
		}
	}
}
