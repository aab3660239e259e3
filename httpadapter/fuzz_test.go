package httpadapter_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// FuzzHandler throws arbitrary requests at the whole handler, over a real
// store with one user: nothing a client sends may cause a 5xx (or a panic,
// which would also surface as a 500 from the recovery middleware).
func FuzzHandler(f *testing.F) {
	e := newEnv(f, backends[0].dsn(f), httpadapter.Options{MaxBodyBytes: 1 << 14})
	a := e.register("fuzz_user")
	paths := []string{"/api/auth/login", "/api/auth/register", "/api/auth/refresh", "/api/user/", "/api/user/" + a.uuid,
		"/api/admin/ban/" + a.uuid, "/api/user/users?users_ids=" + a.uuid, "/api/user/?skip=1&limit=2", "/ping", "/api/auth/sessions/x"}
	for i, p := range paths {
		for _, m := range []string{"GET", "POST", "PATCH", "DELETE"} {
			f.Add(m, p, "application/json", []byte(`{"username":"fuzz_user","password":"Passw0rd!x","refresh_token":"`+a.RefreshToken+`","reason":"r"}`), i%2 == 0)
		}
		f.Add("POST", p, "application/x-www-form-urlencoded", []byte("username=fuzz_user&password=x&grant_type=password"), i%2 == 1)
	}
	f.Add("POST", "/api/auth/register", "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nabc\r\n--x--\r\n"), false)
	f.Fuzz(func(t *testing.T, method, target, ctype string, body []byte, auth bool) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t\x00#") {
			return // not something net/http would hand to a handler
		}
		r, err := safeRequest(method, target, body)
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", ctype)
		if auth {
			r.Header.Set("Authorization", "Bearer "+a.AccessToken)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("%s %s (%s) %q → %d %s", method, target, ctype, body, rec.Code, rec.Body)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// safeRequest is httptest.NewRequest without its panic on a bad target.
func safeRequest(method, target string, body []byte) (r *http.Request, err error) {
	defer func() {
		if recover() != nil {
			r, err = nil, errBadTarget
		}
	}()
	return httptest.NewRequest(method, target, bytes.NewReader(body)), nil
}

var errBadTarget = errors.New("bad target")
