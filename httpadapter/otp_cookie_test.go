package httpadapter_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// deepLogin is a feature of the test whose sign-in route lies deeper than
// /auth/login (as /auth/email-code/verify and /auth/passkeys/login/finish
// do) and always answers the second step of two-factor login.
type deepLogin struct{}

func (deepLogin) FeatureName() string                 { return "deeplogin" }
func (deepLogin) InitFeature(*usermgmt.Manager) error { return nil }
func (deepLogin) Schemas() map[string]any             { return nil }

func (deepLogin) Endpoints() []httpadapter.Endpoint {
	return []httpadapter.Endpoint{httpadapter.Handle(httpadapter.Route{Method: http.MethodPost, Path: "/auth/deep/login/finish",
		Name: "deep_login", Flag: "DEEP_LOGIN", Tag: "auth", Summary: "Test sign-in.", Status: http.StatusOK, Response: "Token",
		Statuses: []int{http.StatusUnauthorized}},
		func(*http.Request) (struct{}, error) { return struct{}{}, nil },
		func(context.Context, *usermgmt.Principal, struct{}) (httpadapter.Response, error) {
			return httpadapter.Response{}, &usermgmt.OTPChallengeError{Token: "challenge-of-the-test",
				Method: usermgmt.OTPAuthenticator, ExpiresAt: time.Now().Add(time.Minute)}
		})}
}

// TestOTPChallengeCookiePath: the challenge cookie of a feature's sign-in
// route is scoped to the core's OTP route ({prefix}/auth/OTP), the one
// route that reads it, not to an "OTP" beside the feature's route (which
// no browser would ever send it to).
func TestOTPChallengeCookiePath(t *testing.T) {
	e := newEnvWith(t, "sqlite://"+t.TempDir()+"/db.sqlite", baseURL, httpadapter.Options{}, deepLogin{})
	r := e.do(request{method: "POST", path: "/api/auth/deep/login/finish"})
	r.wantStatus(t, http.StatusUnauthorized)
	var found bool
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name != "otp_token" {
			continue
		}
		found = true
		if c.Path != "/api/auth/OTP" || c.Value != "challenge-of-the-test" {
			t.Errorf("challenge cookie %q at path %q, want it at /api/auth/OTP", c.Value, c.Path)
		}
	}
	if !found {
		t.Fatalf("no otp_token cookie: %v", r.header["Set-Cookie"])
	}
}
