package emaillogin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/internal/smtptest"
	"github.com/usermgmt/usermgmt/mail"
)

// TestSecondFactor: a link or a code proves the mailbox only: an account
// with TOTP gets the OTP-REQUIRED answer of login, whose challenge its
// TOTP code completes.
func TestSecondFactor(t *testing.T) {
	e := newEnv(t, emaillogin.Config{}, nil)
	ctx := context.Background()
	u := e.user("jane_doe")
	setup, err := e.m.SetupOTP(ctx, u.UUID)
	if err != nil {
		t.Fatal(err)
	}
	totpCode := func() string {
		c, err := totp.GenerateCodeCustom(setup.Secret, e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, _, err := e.m.ChangeOTPMethod(ctx, u.UUID, usermgmt.OTPAuthenticator, totpCode(), ""); err != nil {
		t.Fatalf("enable TOTP: %v", err)
	}
	challenge := func(name string, a answer) string {
		t.Helper()
		var v struct {
			Detail struct {
				Error string `json:"error"`
			} `json:"detail"`
			Code     string `json:"code"`
			OTPToken string `json:"otp_token"`
		}
		if a.status != http.StatusUnauthorized || json.Unmarshal(a.body, &v) != nil || v.Detail.Error != "OTP-REQUIRED" || v.OTPToken == "" {
			t.Fatalf("%s on a TOTP account: %d %s, want the OTP-REQUIRED answer", name, a.status, a.body)
		}
		return v.OTPToken
	}
	e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": u.Email})
	_, token := tokenOf(t, e.nextMail())
	challenge("magic link", e.do(http.MethodGet, "/api/auth/magic-link/verify?token="+token, nil))

	code := e.requestCode(u.Email)
	otpToken := challenge("email code", e.verifyCode(u.Email, code))
	// The login's second step completes it over HTTP (a new TOTP step:
	// the one that enabled TOTP is spent).
	e.clock.Add(31 * time.Second)
	e.do(http.MethodPost, "/api/auth/OTP", map[string]string{"otp_token": otpToken, "otp_code": totpCode()}).accessToken(t)
	e.clock.Add(31 * time.Second)

	// The Manager-level call hands the challenge that LoginOTP completes.
	e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": u.Email})
	_, token = tokenOf(t, e.nextMail())
	_, err = e.el.VerifyLink(ctx, token)
	var ch *usermgmt.OTPChallengeError
	if !errors.As(err, &ch) || ch.Token == "" {
		t.Fatalf("VerifyLink on a TOTP account: %v", err)
	}
	e.clock.Add(31 * time.Second) // a new TOTP step
	if _, err := e.m.LoginOTP(ctx, ch.Token, totpCode()); err != nil {
		t.Fatalf("LoginOTP after the link: %v", err)
	}
	if n := len(e.audit(u.UUID, usermgmt.AuditLogin)); n != 2 {
		t.Errorf("%d logins, want 2 (after the TOTP steps only)", n)
	}
}

// TestRateLimited: requests take the mail-send class and verifications the
// login class, per client IP and per address (one address's mail-send
// budget is shared by links and codes).
func TestRateLimited(t *testing.T) {
	e := newEnv(t, emaillogin.Config{}, nil)
	e.h = httpadapter.New(e.m, httpadapter.Options{Prefix: "/api", RateLimit: httpadapter.RateLimitOptions{
		Enabled: true,
		Classes: map[string]httpadapter.LimitClass{
			httpadapter.ClassLogin:    {IP: usermgmt.Rate{Limit: 100, Window: time.Minute}, Account: usermgmt.Rate{Limit: 2, Window: time.Minute}},
			httpadapter.ClassMailSend: {IP: usermgmt.Rate{Limit: 100, Window: time.Minute}, Account: usermgmt.Rate{Limit: 2, Window: time.Minute}},
		},
	}})
	for n, path := range []string{"/api/auth/magic-link", "/api/auth/email-code"} {
		for i := range 3 {
			a := e.do(http.MethodPost, path, map[string]string{"email": fmt.Sprintf("nobody%d@example.com", n)})
			if want := http.StatusAccepted; i == 2 {
				if a.status != http.StatusTooManyRequests {
					t.Errorf("%s, third request for one address: %d %s, want 429", path, a.status, a.body)
				}
			} else if a.status != want {
				t.Errorf("%s, request %d: %d %s", path, i+1, a.status, a.body)
			}
		}
	}
	for i := range 3 {
		a := e.verifyCode("nobody@example.com", "123456")
		if i == 2 && a.status != http.StatusTooManyRequests {
			t.Errorf("third code guess for one address: %d %s, want 429", a.status, a.body)
		}
	}
	e.h = httpadapter.New(e.m, httpadapter.Options{Prefix: "/api", RateLimit: httpadapter.RateLimitOptions{
		Enabled: true,
		Classes: map[string]httpadapter.LimitClass{httpadapter.ClassLogin: {IP: usermgmt.Rate{Limit: 1, Window: time.Minute}}},
	}})
	e.do(http.MethodGet, "/api/auth/magic-link/verify?token=x", nil)
	if a := e.do(http.MethodGet, "/api/auth/magic-link/verify?token=x", nil); a.status != http.StatusTooManyRequests {
		t.Errorf("second link verification from one IP: %d %s, want 429", a.status, a.body)
	}
}

// TestOpenAPI: every route is in the OpenAPI document.
func TestOpenAPI(t *testing.T) {
	el := emaillogin.New(emaillogin.Config{})
	doc, err := httpadapter.OpenAPI("/api", "test", el)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	eps := el.Endpoints()
	if len(eps) != 4 {
		t.Fatalf("%d endpoints, want 4", len(eps))
	}
	for _, e := range eps {
		if _, ok := v.Paths["/api"+e.Path][strings.ToLower(e.Method)]; !ok {
			t.Errorf("%s %s is not in the OpenAPI document", e.Method, e.Path)
		}
	}
}

// TestDisabledMethods: a method turned off serves no route, and its
// Manager-level calls answer its disabled error.
func TestDisabledMethods(t *testing.T) {
	e := newEnv(t, emaillogin.Config{DisableLinks: true, DisableCodes: true}, nil)
	for _, path := range []string{"/api/auth/magic-link", "/api/auth/email-code", "/api/auth/email-code/verify"} {
		if a := e.do(http.MethodPost, path, map[string]string{"email": "a@example.com"}); a.status != http.StatusNotFound {
			t.Errorf("%s with the method off: %d", path, a.status)
		}
	}
	if err := e.el.RequestLink(context.Background(), "a@example.com", ""); !errors.Is(err, emaillogin.ErrLinksDisabled) {
		t.Errorf("RequestLink: %v", err)
	}
	if _, err := e.el.VerifyCode(context.Background(), "a@example.com", "123456"); !errors.Is(err, emaillogin.ErrCodesDisabled) {
		t.Errorf("VerifyCode: %v", err)
	}
}

// TestConfig: a LinkURL without {token} fails New.
func TestConfig(t *testing.T) {
	e := newEnv(t, emaillogin.Config{}, nil)
	_, err := usermgmt.New(usermgmt.Config{Store: e.m.Store(), JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BaseURL: baseURL, BcryptCost: 4,
		DataDir: t.TempDir(), Logger: quiet}, usermgmt.WithFeature(emaillogin.New(emaillogin.Config{LinkURL: "https://app.example.com/in"})))
	if err == nil {
		t.Error("New with a LinkURL without {token} succeeded")
	}
}

// TestOverSMTP: the code travels through a real SMTP exchange (the mail
// package's SMTP transport to a test server on a socket) and signs in.
func TestOverSMTP(t *testing.T) {
	srv := smtptest.Start(t)
	smtp := &mail.SMTP{Host: srv.Host, Port: srv.Port, NoTLS: true, From: "noreply@example.com", FromName: "Acme"}
	e := newEnv(t, emaillogin.Config{}, nil, usermgmt.WithMailer(smtp))
	u, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: "jane_doe", Email: "jane_doe@example.com", Password: password, EmailVerified: true})
	if err != nil {
		t.Fatal(err)
	}
	if a := e.do(http.MethodPost, "/api/auth/email-code", map[string]string{"email": u.Email}); a.status != http.StatusAccepted {
		t.Fatalf("request: %d %s", a.status, a.body)
	}
	e.el.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := srv.Next(ctx)
	if err != nil {
		t.Fatalf("nothing reached the SMTP server: %v", err)
	}
	if got.From != "noreply@example.com" || len(got.To) != 1 || got.To[0] != u.Email {
		t.Fatalf("envelope %q %q", got.From, got.To)
	}
	parsed, err := got.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(parsed.Header.Get("Subject"), "sign-in code") {
		t.Errorf("subject %q", parsed.Header.Get("Subject"))
	}
	m := codeRe.FindStringSubmatch(got.Data)
	if m == nil {
		t.Fatalf("no code in the message:\n%s", got.Data)
	}
	e.verifyCode(u.Email, m[1]).accessToken(t)
}
