package httpadapter_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzAccountRoutes throws arbitrary requests at the account security
// routes (tokens, codes and challenges in every place they are read from)
// as a user whose two-factor login is on: no input may cause a 5xx.
func FuzzAccountRoutes(f *testing.F) {
	e := newSecEnv(f, backends[0].dsn(f), nil)
	a := e.register("fuzz_account")
	e.nextMail()
	e.do(request{method: "POST", path: "/api/auth/OTP/email/send", token: a.AccessToken}).wantStatus(f, 200)
	code := mailCode(f, e.nextMail())
	e.do(request{method: "PATCH", path: "/api/auth/OTP/email?otp_code=" + code, token: a.AccessToken}).wantStatus(f, 200)
	ch, _ := e.challenge("fuzz_account", password)
	e.nextMail()
	seeds := []struct{ method, target, ctype, body string }{
		{"POST", "/api/auth/OTP?otp_code=123456", "application/json", `{"otp_token":"` + ch + `"}`},
		{"POST", "/api/auth/OTP", "application/x-www-form-urlencoded", "otp_token=" + ch + "&otp_code=abcde-fghij"},
		{"POST", "/api/auth/OTP", "application/json", `{"otp_token":"` + ch + `","otp_code":1e999}`},
		{"PATCH", "/api/auth/OTP/none", "application/json", `{"password":"x","otp_code":[1]}`},
		{"PATCH", "/api/auth/OTP/authenticator?otp_code=%zz", "", ""},
		{"GET", "/api/auth/email/verify?token=bearer%20" + ch + "&redirect=javascript:x", "", ""},
		{"POST", "/api/auth/email/verify/resend", "application/json", `{"email":"` + a.email + `"}`},
		{"GET", "/api/auth/forgot-password/request?username=fuzz_account&email=" + url.QueryEscape(a.email), "", ""},
		{"POST", "/api/auth/forgot-password/reset", "application/json", `{"token":"` + ch + `","new_password":"Passw0rd!x","confirm_password":"Passw0rd!x"}`},
		{"PATCH", "/api/auth/password", "application/x-www-form-urlencoded", "old_password=a&new_password=b&confirm_password=b"},
		{"GET", "/api/auth/QR", "", ""},
		{"GET", "/api/auth/OTP/setup", "", ""},
	}
	for i, s := range seeds {
		f.Add(s.method, s.target, s.ctype, []byte(s.body), i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, method, target, ctype string, body []byte, auth bool) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t\x00#") {
			return
		}
		r, err := safeRequest(method, target, body)
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", ctype)
		if auth {
			r.Header.Set("Authorization", "Bearer "+a.AccessToken)
		} else {
			r.Header.Set("Cookie", "otp_token="+ch)
		}
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.h.ServeHTTP(rec, r)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s %s (%s) %q: no answer within 20s", method, target, ctype, body)
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s (%s) %q → %d %s", method, target, ctype, body, rec.Code, rec.Body)
		}
	})
}
