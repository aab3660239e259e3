package emaillogin_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/emaillogin/secretstore"
)

func (e *env) requestCode(addr string) string {
	e.t.Helper()
	if a := e.do(http.MethodPost, "/api/auth/email-code", map[string]string{"email": addr}); a.status != http.StatusAccepted {
		e.t.Fatalf("request code: %d %s", a.status, a.body)
	}
	msg := e.nextMail()
	if !strings.Contains(msg.Subject, "sign-in code") {
		e.t.Fatalf("mail %q", msg.Subject)
	}
	return codeOf(e.t, msg)
}

func (e *env) verifyCode(addr, code string) answer {
	e.t.Helper()
	return e.do(http.MethodPost, "/api/auth/email-code/verify", map[string]string{"email": addr, "code": code})
}

// wrong returns a code that is not c.
func wrong(c string, i int) string {
	w := fmt.Sprintf("%06d", i)
	if w == c {
		w = fmt.Sprintf("%06d", i+1)
	}
	return w
}

// TestEmailCodeHTTP: a mailed code signs in once, stored as a MAC, and
// verifies the address; wrong guesses before it are allowed up to the
// fifth try.
func TestEmailCodeHTTP(t *testing.T) {
	e := newEnv(t, emaillogin.Config{}, nil)
	u := e.user("jane_doe")
	code := e.requestCode("jane_doe@example.com")
	s, err := e.m.Store().(secretstore.Store).SecretByEmail(context.Background(), secretstore.KindCode, u.Email, e.clock.Now())
	if err != nil || strings.Contains(string(s.Hash), code) || len(s.Hash) != 32 || !s.ExpiresAt.Equal(e.clock.Now().Add(10*time.Minute)) {
		t.Fatalf("stored code %+v, %v", s, err)
	}
	for i := range 4 {
		a := e.verifyCode("jane_doe@example.com", wrong(code, i))
		if a.status != http.StatusUnauthorized || a.code(t) != "email_code_invalid" {
			t.Fatalf("wrong code %d: %d %s", i, a.status, a.body)
		}
	}
	e.clock.Add(9 * time.Minute)
	access := e.verifyCode("Jane_Doe@example.com", code).accessToken(t)
	if p, err := e.m.Authenticate(context.Background(), access); err != nil || p.User().UUID != u.UUID || !p.User().EmailVerified {
		t.Fatalf("Authenticate: %v", err)
	}
	logins := e.audit(u.UUID, usermgmt.AuditLogin)
	if len(logins) != 1 || logins[0].Detail != "method=email_code" {
		t.Errorf("login audit %+v", logins)
	}
	if n := len(e.audit(u.UUID, usermgmt.AuditLoginFailed)); n != 4 {
		t.Errorf("%d failed sign-ins audited, want 4", n)
	}
	if a := e.verifyCode("jane_doe@example.com", code); a.status != http.StatusUnauthorized || a.code(t) != "email_code_invalid" {
		t.Errorf("code used twice: %d %s", a.status, a.body)
	}
}

// TestEmailCodeVoided: five wrong tries void the code, a newer code voids
// the older, and an expired code fails; an unknown address answers alike.
func TestEmailCodeVoided(t *testing.T) {
	// Lockout out of the way: this test is about the code's own limits.
	e := newEnv(t, emaillogin.Config{}, func(c *usermgmt.Config) { c.Lockout.Threshold = -1 })
	e.user("jane_doe")
	invalid := func(name, addr, code string) {
		t.Helper()
		if a := e.verifyCode(addr, code); a.status != http.StatusUnauthorized || a.code(t) != "email_code_invalid" {
			t.Errorf("%s: %d %s, want 401 email_code_invalid", name, a.status, a.body)
		}
	}
	code := e.requestCode("jane_doe@example.com")
	for i := range emaillogin.DefaultMaxCodeAttempts {
		invalid(fmt.Sprint("wrong try ", i+1), "jane_doe@example.com", wrong(code, i))
	}
	invalid("the right code after five wrong tries", "jane_doe@example.com", code)
	e.noSecret(secretstore.KindCode, "jane_doe@example.com")

	older := e.requestCode("jane_doe@example.com")
	newer := e.requestCode("jane_doe@example.com")
	if older != newer {
		invalid("the older code", "jane_doe@example.com", older)
	}
	e.clock.Add(10 * time.Minute)
	invalid("an expired code", "jane_doe@example.com", newer)
	invalid("an unknown address", "nobody@example.com", "123456")
	if _, err := e.el.VerifyCode(context.Background(), "jane_doe@example.com", "12a456"); err != emaillogin.ErrCodeInvalid {
		t.Errorf("malformed code through the Manager-level call: %v", err)
	}
}

// TestEmailCodeLockout: wrong codes count toward the login lockout as wrong
// passwords do: five lock the account, whose right code and password then
// fail alike.
func TestEmailCodeLockout(t *testing.T) {
	e := newEnv(t, emaillogin.Config{}, nil)
	u := e.user("jane_doe")
	for i := range usermgmt.DefaultLockout.Threshold {
		if a := e.verifyCode("jane_doe@example.com", fmt.Sprintf("%06d", i)); a.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, a.status, a.body)
		}
	}
	if n := len(e.audit(u.UUID, usermgmt.AuditAccountLocked)); n != 1 {
		t.Fatalf("%d lock entries after %d wrong codes, want 1", n, usermgmt.DefaultLockout.Threshold)
	}
	code := e.requestCode("jane_doe@example.com")
	if a := e.verifyCode("jane_doe@example.com", code); a.status != http.StatusUnauthorized || a.code(t) != "email_code_invalid" {
		t.Errorf("right code on the locked account: %d %s", a.status, a.body)
	}
	if _, err := e.m.Login(context.Background(), "jane_doe", password); err == nil {
		t.Error("password login on the account the codes locked")
	}
	e.clock.Add(usermgmt.DefaultLockout.Duration + time.Second)
	code = e.requestCode("jane_doe@example.com")
	e.verifyCode("jane_doe@example.com", code).accessToken(t)
}
