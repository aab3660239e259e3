package httpadapter_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/usermgmt/usermgmt"
)

// totpCode is what an authenticator app shows at now.
func totpCode(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, now, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// challenge logs in with the password and returns the 401's challenge.
func (e *secEnv) challenge(username, pw string) (token string, r result) {
	e.t.Helper()
	r = e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {username}, "password": {pw}}})
	r.wantStatus(e.t, 401)
	var body struct {
		Detail   map[string]string `json:"detail"`
		Code     string            `json:"code"`
		OTPToken string            `json:"otp_token"`
	}
	r.decode(e.t, &body)
	if body.Detail["error"] != "OTP-REQUIRED" || body.Code != "otp_required" || body.OTPToken == "" {
		e.t.Fatalf("challenge answer %s", r.body)
	}
	return body.OTPToken, r
}

func TestTwoFactorAuthenticator(t *testing.T) {
	eachBackendMail(t, nil, func(t *testing.T, e *secEnv) {
		a := e.register("totp_user")
		e.nextMail()

		// Enrolment: the secret as JSON, the QR code as PNG; no secret in a header.
		r := e.do(request{method: "GET", path: "/api/auth/OTP/setup", token: a.AccessToken})
		r.wantStatus(t, 200)
		var setup struct{ URI, Secret string }
		r.decode(t, &setup)
		key, err := otp.NewKeyFromURL(setup.URI)
		if err != nil || key.Secret() != setup.Secret || key.Issuer() != "Test Project" || key.Digits() != otp.DigitsSix || key.Period() != 30 || len(setup.Secret) != 32 {
			t.Fatalf("setup %+v (%v)", setup, err)
		}
		qr := e.do(request{method: "GET", path: "/api/auth/QR", token: a.AccessToken})
		qr.wantStatus(t, 200)
		if qr.header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(qr.body, []byte("\x89PNG\r\n\x1a\n")) || qr.header.Get("secret") != "" {
			t.Fatalf("QR answer %v", qr.header)
		}
		// The secret stays the same until enabled.
		r = e.do(request{method: "GET", path: "/api/auth/OTP/setup", token: a.AccessToken})
		var again struct{ Secret string }
		r.decode(t, &again)
		if again.Secret != setup.Secret {
			t.Fatal("setup changed the secret")
		}

		e.do(request{method: "PATCH", path: "/api/auth/OTP/authenticator?otp_code=000000", token: a.AccessToken}).wantError(t, 401, "invalid_otp")
		e.do(request{method: "PATCH", path: "/api/auth/OTP/sms?otp_code=000000", token: a.AccessToken}).wantError(t, 422, "invalid_request")
		r = e.do(request{method: "PATCH", path: "/api/auth/OTP/authenticator?otp_code=" + totpCode(t, setup.Secret, e.clock.Now()), token: a.AccessToken})
		r.wantStatus(t, 200)
		var enabled struct {
			OTPMethod     string   `json:"otp_method"`
			RecoveryCodes []string `json:"recovery_codes"`
		}
		r.decode(t, &enabled)
		if enabled.OTPMethod != "authenticator" || len(enabled.RecoveryCodes) != 10 {
			t.Fatalf("enable answer %s", r.body)
		}
		e.do(request{method: "GET", path: "/api/auth/OTP/setup", token: a.AccessToken}).wantError(t, 409, "conflict")
		// Another factor cannot replace this one without turning it off.
		e.do(request{method: "POST", path: "/api/auth/OTP/email/send", token: a.AccessToken}).wantStatus(t, 200)
		e.do(request{method: "PATCH", path: "/api/auth/OTP/email?otp_code=" + mailCode(t, e.nextMail()), token: a.AccessToken}).wantError(t, 409, "conflict")

		// Login now stops at the second step, with the challenge in a cookie too.
		ch, r := e.challenge("totp_user", password)
		cookie := r.header.Get("Set-Cookie")
		if !strings.Contains(cookie, "otp_token="+ch) || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "Path=/api/auth/OTP") {
			t.Fatalf("Set-Cookie %q", cookie)
		}
		// The step used to enable is spent; the same code again is refused.
		e.do(request{method: "POST", path: "/api/auth/OTP?otp_code=" + totpCode(t, setup.Secret, e.clock.Now()), json: map[string]string{"otp_token": ch}}).wantError(t, 401, "invalid_otp")
		e.clock.Advance(30 * time.Second)
		// The cookie alone carries the challenge.
		r = e.do(request{method: "POST", path: "/api/auth/OTP?otp_code=" + totpCode(t, setup.Secret, e.clock.Now()), header: map[string]string{"Cookie": "otp_token=" + ch}})
		tk := r.tokens(t)
		e.whoami(tk.AccessToken)
		// The challenge is single-use.
		e.clock.Advance(30 * time.Second)
		e.do(request{method: "POST", path: "/api/auth/OTP", form: url.Values{"otp_code": {totpCode(t, setup.Secret, e.clock.Now())}, "otp_token": {ch}}}).wantError(t, 401, "invalid_token")

		// One step of drift either side is accepted, two are not.
		ch, _ = e.challenge("totp_user", password)
		e.do(request{method: "POST", path: "/api/auth/OTP", form: url.Values{"otp_code": {totpCode(t, setup.Secret, e.clock.Now().Add(-60*time.Second))}, "otp_token": {ch}}}).wantError(t, 401, "invalid_otp")
		e.do(request{method: "POST", path: "/api/auth/OTP", form: url.Values{"otp_code": {totpCode(t, setup.Secret, e.clock.Now().Add(30*time.Second))}, "otp_token": {ch}}}).tokens(t)

		// A recovery code works once, in place of the code, via a bearer header.
		e.clock.Advance(90 * time.Second)
		ch, _ = e.challenge("totp_user", password)
		e.do(request{method: "POST", path: "/api/auth/OTP", token: ch, json: map[string]string{"otp_code": strings.ToUpper(enabled.RecoveryCodes[0])}}).tokens(t)
		ch, _ = e.challenge("totp_user", password)
		e.do(request{method: "POST", path: "/api/auth/OTP", token: ch, json: map[string]string{"otp_code": enabled.RecoveryCodes[0]}}).wantError(t, 401, "invalid_otp")

		// Failures across factors lock the second step: the one above and four more.
		for i := 0; i < 3; i++ {
			e.do(request{method: "POST", path: "/api/auth/OTP", token: ch, json: map[string]string{"otp_code": "123456"}}).wantError(t, 401, "invalid_otp")
		}
		e.do(request{method: "POST", path: "/api/auth/OTP", token: ch, json: map[string]string{"otp_code": "aaaaa-aaaaa"}}).wantError(t, 429, "otp_locked")
		ch, _ = e.challenge("totp_user", password)
		e.do(request{method: "POST", path: "/api/auth/OTP", token: ch, json: map[string]string{"otp_code": totpCode(t, setup.Secret, e.clock.Now())}}).wantError(t, 429, "otp_locked")
		e.clock.Advance(15*time.Minute + time.Second)
		ch, _ = e.challenge("totp_user", password)
		tk = e.do(request{method: "POST", path: "/api/auth/OTP", token: ch, json: map[string]string{"otp_code": totpCode(t, setup.Secret, e.clock.Now())}}).tokens(t)

		// Disabling takes the password (or a code).
		e.do(request{method: "PATCH", path: "/api/auth/OTP/none", token: tk.AccessToken, form: url.Values{"password": {"wrong-Passw0rd"}}}).wantError(t, 401, "invalid_otp")
		r = e.do(request{method: "PATCH", path: "/api/auth/OTP/none", token: tk.AccessToken, form: url.Values{"password": {password}}})
		r.wantStatus(t, 200)
		if m := r.object(t); m["otp_method"] != "none" || m["recovery_codes"] != nil {
			t.Fatalf("disable answer %s", r.body)
		}
		e.login("totp_user")
		e.do(request{method: "POST", path: "/api/auth/OTP?otp_code=123456", json: map[string]string{"otp_token": ch}}).wantError(t, 401, "invalid_token")
		e.do(request{method: "POST", path: "/api/auth/OTP?otp_code=123456"}).wantError(t, 401, "invalid_token")
		e.do(request{method: "POST", path: "/api/auth/OTP", json: map[string]string{"otp_token": ch}}).wantError(t, 422, "invalid_request")
	})
}

func TestTwoFactorEmail(t *testing.T) {
	eachBackendMail(t, func(c *usermgmt.Config) { c.OTPEmailInterval = 2 * time.Minute }, func(t *testing.T, e *secEnv) {
		a := e.register("mail_factor")
		e.nextMail()
		e.do(request{method: "POST", path: "/api/auth/OTP/email/send", token: a.AccessToken}).wantStatus(t, 200)
		msg := e.nextMail()
		if !strings.Contains(msg.Subject, "Login code") {
			t.Fatalf("subject %q", msg.Subject)
		}
		code := mailCode(t, msg)
		// A resend voids the first code.
		e.do(request{method: "POST", path: "/api/auth/OTP/email/send", token: a.AccessToken}).wantStatus(t, 200)
		code2 := mailCode(t, e.nextMail())
		if code != code2 {
			e.do(request{method: "PATCH", path: "/api/auth/OTP/email?otp_code=" + code, token: a.AccessToken}).wantError(t, 401, "invalid_otp")
		}
		r := e.do(request{method: "PATCH", path: "/api/auth/OTP/email", token: a.AccessToken, json: map[string]any{"otp_code": code2}})
		r.wantStatus(t, 200)
		if m := r.object(t); m["otp_method"] != "email" || len(m["recovery_codes"].([]any)) != 10 {
			t.Fatalf("enable answer %s", r.body)
		}

		// Login mails a code; a JSON number is accepted.
		ch, _ := e.challenge("mail_factor", password)
		code = mailCode(t, e.nextMail())
		if code[0] != '0' {
			e.do(request{method: "POST", path: "/api/auth/OTP", raw: `{"otp_token":"` + ch + `","otp_code":` + code + `}`, contentType: "application/json"}).tokens(t)
		} else {
			e.do(request{method: "POST", path: "/api/auth/OTP", json: map[string]string{"otp_token": ch, "otp_code": code}}).tokens(t)
		}
		// A code expires after OTP_EMAIL_INTERVAL (2 minutes here), before
		// the challenge does (5 minutes).
		ch, _ = e.challenge("mail_factor", password)
		code = mailCode(t, e.nextMail())
		e.clock.Advance(2*time.Minute + time.Second)
		e.do(request{method: "POST", path: "/api/auth/OTP", json: map[string]string{"otp_token": ch, "otp_code": code}}).wantError(t, 401, "invalid_otp")
		// The challenge itself lives 5 minutes.
		e.clock.Advance(3 * time.Minute)
		e.do(request{method: "POST", path: "/api/auth/OTP", json: map[string]string{"otp_token": ch, "otp_code": code}}).wantError(t, 401, "invalid_token")
	})
}
