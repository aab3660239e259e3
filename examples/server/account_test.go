package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt/internal/testpg"
)

var (
	logToken = regexp.MustCompile(`token=([A-Za-z0-9_-]{43})`)
	logCode  = regexp.MustCompile(`code is: (\d{6})`)
)

// waitLog waits for the (skip+1)th distinct value of re's first group in
// the logs (a mailed link appears twice: in the links and in the text).
func waitLog(t *testing.T, s *testServer, re *regexp.Regexp, skip int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var distinct []string
		for _, m := range re.FindAllStringSubmatch(s.logs.String(), -1) {
			if !slices.Contains(distinct, m[1]) {
				distinct = append(distinct, m[1])
			}
		}
		if len(distinct) > skip {
			return distinct[skip]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %v in the logs:\n%s", re, s.logs.String())
	return ""
}

// send makes a request without following redirects and returns the status,
// the Location and the body.
func send(t *testing.T, s *testServer, method, path, token string, body any) (int, string, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), b
}

// TestServerAccountSecurity runs every account security flow against the
// server with the log mail transport, reading the mailed links and codes
// from its log, on SQLite and on PostgreSQL.
func TestServerAccountSecurity(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			vars := map[string]string{"EMAIL_METHOD": "log", "FRONTEND_URL": "http://app.localhost:3000", "PROJECT_NAME": "Acme"}
			if backend == "postgres" {
				vars["DATABASE_URI"] = testpg.DSN(t)
			}
			s := startServer(t, vars)
			const pw, pw2 = "Correct-Horse-9", "Battery-Staple-8"
			var reg tokenResponse
			s.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
				"username": {"jane_doe"}, "email": {"jane@example.com"}, "password": {pw}, "confirm_password": {pw},
			}, http.StatusOK, &reg)

			// Verification: the mailed link verifies and redirects to the frontend.
			token := waitLog(t, s, logToken, 0)
			status, loc, body := send(t, s, "GET", "/api/auth/email/verify?token="+token, "", nil)
			if status != http.StatusTemporaryRedirect || loc != "http://app.localhost:3000" {
				t.Fatalf("verify = %d %q %s", status, loc, body)
			}

			// Forgot and reset.
			s.do(t, http.MethodPost, "/api/auth/forgot-password/request", "", url.Values{"email": {"jane@example.com"}}, http.StatusOK, nil)
			reset := waitLog(t, s, logToken, 1)
			if !strings.Contains(s.logs.String(), "http://app.localhost:3000/forgot-password/reset?token="+reset) {
				t.Fatalf("reset link not under FRONTEND_URL:\n%s", s.logs.String())
			}
			s.do(t, http.MethodPost, "/api/auth/forgot-password/reset", "", url.Values{"token": {reset}, "new_password": {pw2}, "confirm_password": {pw2}}, http.StatusOK, nil)
			var login tokenResponse
			s.do(t, http.MethodPost, "/api/auth/login", "", url.Values{"username": {"jane_doe"}, "password": {pw2}}, http.StatusOK, &login)

			// Change.
			s.do(t, http.MethodPatch, "/api/auth/password", login.AccessToken, url.Values{"old_password": {pw2}, "new_password": {pw}, "confirm_password": {pw}}, http.StatusOK, nil)

			// The authenticator setup answers a URI with the configured issuer.
			status, _, body = send(t, s, "GET", "/api/auth/OTP/setup", login.AccessToken, nil)
			if status != 200 || !strings.Contains(string(body), "otpauth://totp/Acme:jane_doe") {
				t.Fatalf("setup = %d %s", status, body)
			}

			// Two-factor by email.
			s.do(t, http.MethodPost, "/api/auth/OTP/email/send", login.AccessToken, nil, http.StatusOK, nil)
			code := waitLog(t, s, logCode, 0)
			var enabled struct {
				RecoveryCodes []string `json:"recovery_codes"`
			}
			s.do(t, http.MethodPatch, "/api/auth/OTP/email?otp_code="+code, login.AccessToken, nil, http.StatusOK, &enabled)
			if len(enabled.RecoveryCodes) != 10 {
				t.Fatalf("recovery codes %v", enabled.RecoveryCodes)
			}
			status, _, body = send(t, s, "POST", "/api/auth/login", "", map[string]string{"username": "jane_doe", "password": pw})
			var challenge struct {
				OTPToken string `json:"otp_token"`
				Code     string `json:"code"`
			}
			if err := json.Unmarshal(body, &challenge); err != nil || status != 401 || challenge.Code != "otp_required" {
				t.Fatalf("login = %d %s", status, body)
			}
			code = waitLog(t, s, logCode, 1)
			status, _, body = send(t, s, "POST", "/api/auth/OTP", "", map[string]string{"otp_token": challenge.OTPToken, "otp_code": code})
			var second tokenResponse
			if err := json.Unmarshal(body, &second); err != nil || status != 200 || second.AccessToken == "" {
				t.Fatalf("second step = %d %s", status, body)
			}
			// With a factor on, enrolling another is refused until it is off.
			status, _, body = send(t, s, "GET", "/api/auth/OTP/setup", second.AccessToken, nil)
			if status != 409 {
				t.Fatalf("setup with email two-factor on = %d %s", status, body)
			}
			if strings.Contains(s.logs.String(), pw2) {
				t.Fatal("a password reached the logs")
			}
		})
	}
}
