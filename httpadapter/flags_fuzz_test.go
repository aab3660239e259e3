package httpadapter_test

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// FuzzFlagChangeAndAccountKeys sends arbitrary bodies to the admin flag
// PATCH (decodeFlagChange) and to login, whose body the rate limiter reads
// for the account key: no 5xx, and the flags stay readable.
func FuzzFlagChangeAndAccountKeys(f *testing.F) {
	e := newEnv(f, backends[0].dsn(f), httpadapter.Options{
		FeatureFlags: true,
		MaxBodyBytes: 1 << 14,
		RateLimit:    httpadapter.RateLimitOptions{Enabled: true, Global: usermgmt.Rate{Limit: 1 << 30, Window: time.Hour}},
	})
	admin := e.user("admin_user", usermgmt.RoleAdmin)
	f.Add(true, "application/json", []byte(`{"add": {"A": true, "B": [{"percentageOfUsers": 0.5}]}, "remove": ["C"]}`))
	f.Add(true, "application/x-www-form-urlencoded", []byte(`remove=A&remove=B&add=%7B%22X%22%3Afalse%7D`))
	f.Add(true, "application/x-www-form-urlencoded", []byte(`remove=%7B%22A%22%3A1%7D`))
	f.Add(false, "application/json", []byte(`{"username": "Admin_User", "password": "x"}`))
	f.Add(false, "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nabc\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, patch bool, ctype string, body []byte) {
		path, method := "/api/auth/login", "POST"
		if patch {
			path, method = "/api/admin/feature_flags", "PATCH"
		}
		r := httptest.NewRequest(method, path, bytes.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		r.Header.Set("Authorization", "Bearer "+admin.AccessToken)
		if res := serve(t, e.h, r); res.status >= 500 {
			t.Fatalf("%s %s (%q) = %s", method, path, body, res)
		}
		get := httptest.NewRequest("GET", "/api/admin/feature_flags", nil)
		get.Header.Set("Authorization", "Bearer "+admin.AccessToken)
		if res := serve(t, e.h, get); res.status >= 500 {
			t.Fatalf("flags unreadable after %q: %s", body, res)
		}
	})
}
