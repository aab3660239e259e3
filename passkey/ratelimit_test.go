package passkey_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestSignInIsRateLimited: the passkey sign-in routes take the login class,
// per client IP and per named account, like the password login.
func TestSignInIsRateLimited(t *testing.T) {
	e := newEnv(t)
	e.h = httpadapter.New(e.m, httpadapter.Options{Prefix: "/api", RateLimit: httpadapter.RateLimitOptions{
		Enabled: true,
		Classes: map[string]httpadapter.LimitClass{httpadapter.ClassLogin: {
			IP:      usermgmt.Rate{Limit: 100, Window: time.Minute},
			Account: usermgmt.Rate{Limit: 2, Window: time.Minute},
		}},
	}})
	for i := range 3 {
		a := e.do(http.MethodPost, "/api/auth/passkeys/login/begin", "", map[string]string{"username": "nobody_here"})
		if i < 2 && a.status == http.StatusTooManyRequests {
			t.Fatalf("request %d refused before the account limit: %s", i+1, a.body)
		}
		if i == 2 && a.status != http.StatusTooManyRequests {
			t.Fatalf("third sign-in begin for one account = %d %s, want 429", a.status, a.body)
		}
	}
	e.h = httpadapter.New(e.m, httpadapter.Options{Prefix: "/api", RateLimit: httpadapter.RateLimitOptions{
		Enabled: true,
		Classes: map[string]httpadapter.LimitClass{httpadapter.ClassLogin: {IP: usermgmt.Rate{Limit: 1, Window: time.Minute}}},
	}})
	e.do(http.MethodPost, "/api/auth/passkeys/login/finish", "", map[string]any{"ceremony": "x", "credential": map[string]any{}})
	if a := e.do(http.MethodPost, "/api/auth/passkeys/login/finish", "", map[string]any{"ceremony": "x", "credential": map[string]any{}}); a.status != http.StatusTooManyRequests {
		t.Fatalf("second sign-in finish from one IP = %d %s, want 429", a.status, a.body)
	}
}
