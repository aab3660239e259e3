package emaillogin_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/emaillogin"
)

// FuzzRoutes: any body sent to the routes, and any token, is answered
// with a success or a clean 4xx, never a 500.
func FuzzRoutes(f *testing.F) {
	for _, s := range []string{
		`{"email":"jane_doe@example.com"}`, `{"email":"jane_doe@example.com","code":"123456"}`,
		`{"email":"a@b.c","redirect_uri":"https://app.example.com/x"}`, `{"email":"a@b.c","redirect_uri":"//evil"}`,
		`{"email":1}`, `{"email":"","code":null}`, `[]`, `null`, ``, "{\"email\":\"\x00@x\"}", `{"email":"a@b.c","code":"１２３４５６"}`,
		strings.Repeat("A", 43), "%zz",
	} {
		f.Add(s)
	}
	e := newEnv(f, emaillogin.Config{SignUp: true}, nil)
	e.user("jane_doe")
	f.Fuzz(func(t *testing.T, in string) {
		for _, path := range []string{"/api/auth/magic-link", "/api/auth/email-code", "/api/auth/email-code/verify"} {
			r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(in))
			r.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, r)
			if rec.Code >= 500 {
				t.Fatalf("%s %q: %d %s", path, in, rec.Code, rec.Body)
			}
		}
		r := httptest.NewRequest(http.MethodGet, "/api/auth/magic-link/verify?token="+url.QueryEscape(in), nil)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("verify %q: %d %s", in, rec.Code, rec.Body)
		}
	})
}
