package emaillogin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin"
)

// writes counts what a request may have written: audit entries and
// sessions.
func (e *env) writes() int {
	e.t.Helper()
	es, err := e.m.Audit(context.Background(), usermgmt.AuditQuery{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(es)
}

// TestMagicLinkBadInput: a malformed, unknown, spent, voided or expired
// token and a bad request are each a clean 4xx with a stable code, and
// write nothing.
func TestMagicLinkBadInput(t *testing.T) {
	e := newEnv(t, emaillogin.Config{}, nil)
	u := e.user("jane_doe")
	request := func() string {
		t.Helper()
		if a := e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": u.Email}); a.status != http.StatusAccepted {
			t.Fatalf("request: %d %s", a.status, a.body)
		}
		_, token := tokenOf(t, e.nextMail())
		return token
	}
	older := request()
	newer := request()

	live := request() // voids newer, kept for the expiry case
	verify := func(name, query string) {
		t.Helper()
		before := e.writes()
		a := e.do(http.MethodGet, "/api/auth/magic-link/verify"+query, nil)
		if a.status != http.StatusUnauthorized || a.code(t) != "magic_link_invalid" {
			t.Errorf("%s: %d %s, want 401 magic_link_invalid", name, a.status, a.body)
		}
		if n := e.writes(); n != before {
			t.Errorf("%s wrote %d audit entries", name, n-before)
		}
	}
	verify("no token", "")
	verify("empty token", "?token=")
	verify("short token", "?token=abc")
	verify("padded token", "?token="+live[:42]+"=")
	verify("not base64url", "?token="+strings.Repeat("*", 43))
	verify("unknown token", "?token="+strings.Repeat("A", 43))
	verify("voided older link", "?token="+older)
	verify("voided newer link", "?token="+newer)
	e.clock.Add(15 * time.Minute)
	verify("expired link", "?token="+live)
	if n := len(e.audit(u.UUID, usermgmt.AuditLogin)); n != 0 {
		t.Errorf("%d sessions opened by bad links", n)
	}

	bad := []struct {
		name, body, code string
		status           int
	}{
		{"no body", "", "invalid_request", http.StatusUnprocessableEntity},
		{"not an object", `["a@example.com"]`, "invalid_request", http.StatusUnprocessableEntity},
		{"no email", `{}`, "invalid_request", http.StatusUnprocessableEntity},
		{"email too long", `{"email":"` + strings.Repeat("a", 300) + `@example.com"}`, "invalid_request", http.StatusUnprocessableEntity},
		{"malformed email", `{"email":"not-an-address"}`, "invalid_email", http.StatusBadRequest},
		{"foreign redirect", `{"email":"jane_doe@example.com","redirect_uri":"https://evil.example.net/cb"}`, "redirect_uri_not_allowed", http.StatusBadRequest},
		{"protocol-relative redirect", `{"email":"jane_doe@example.com","redirect_uri":"//evil.example.net/cb"}`, "redirect_uri_not_allowed", http.StatusBadRequest},
		{"javascript redirect", `{"email":"jane_doe@example.com","redirect_uri":"javascript:alert(1)"}`, "redirect_uri_not_allowed", http.StatusBadRequest},
	}
	for _, c := range bad {
		before := e.writes()
		a := e.do(http.MethodPost, "/api/auth/magic-link", c.body)
		if c.body == "" {
			a = e.do(http.MethodPost, "/api/auth/magic-link", nil)
		}
		if a.status != c.status || a.code(t) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, a.status, a.body, c.status, c.code)
		}
		e.el.Wait()
		if n := e.writes(); n != before {
			t.Errorf("%s wrote %d audit entries", c.name, n-before)
		}
	}
	r := e.do(http.MethodPost, "/api/auth/email-code/verify", `{"email":"jane_doe@example.com","code":"12345"}`)
	if r.status != http.StatusUnprocessableEntity || r.code(t) != "invalid_request" {
		t.Errorf("five-digit code: %d %s", r.status, r.body)
	}
}

// TestMagicLinkRedirect: an allowed redirect_uri is where the mailed link
// leads, with the token in its query.
func TestMagicLinkRedirect(t *testing.T) {
	e := newEnv(t, emaillogin.Config{}, func(c *usermgmt.Config) { c.RedirectAllowList = []string{"https://other.example.org/app"} })
	e.user("jane_doe")
	for _, target := range []string{appURL + "/welcome?tab=1", "https://other.example.org/app/cb", "/dashboard"} {
		a := e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": "jane_doe@example.com", "redirect_uri": target})
		if a.status != http.StatusAccepted {
			t.Fatalf("%s: %d %s", target, a.status, a.body)
		}
		link, token := tokenOf(t, e.nextMail())
		want := target
		if strings.HasPrefix(target, "/") {
			want = appURL + target
		}
		base, _, _ := strings.Cut(want, "?")
		if !strings.HasPrefix(link, base+"?") {
			t.Errorf("redirect %s: link %s", target, link)
		}
		res, err := e.el.VerifyLink(context.Background(), token)
		if err != nil || res.RedirectURI != target || res.Tokens == nil {
			t.Errorf("VerifyLink: %+v, %v; want the redirect %s", res, err, target)
		}
	}
	if a := e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": "jane_doe@example.com", "redirect_uri": "https://other.example.org/apps"}); a.status != http.StatusBadRequest {
		t.Errorf("a prefix outside the allowed path: %d %s", a.status, a.body)
	}
}

// TestMagicLinkSignUp: off by default (an unknown address gets nothing);
// with Config.SignUp the link creates a verified account and signs in.
func TestMagicLinkSignUp(t *testing.T) {
	off := newEnv(t, emaillogin.Config{}, nil)
	off.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": "new.person@example.com"})
	off.noSecret("link", "new.person@example.com")

	e := newEnv(t, emaillogin.Config{SignUp: true}, nil)
	if a := e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": "New.Person@example.com"}); a.status != http.StatusAccepted {
		t.Fatalf("request: %d %s", a.status, a.body)
	}
	msg := e.nextMail()
	if !strings.Contains(msg.Subject, "Create your account") || msg.To[0] != "new.person@example.com" {
		t.Fatalf("sign-up mail: %q to %v", msg.Subject, msg.To)
	}
	if _, err := e.m.UserByLogin(context.Background(), "new.person@example.com"); err == nil {
		t.Fatal("the account exists before the link is opened")
	}
	_, token := tokenOf(t, msg)
	access := e.do(http.MethodGet, "/api/auth/magic-link/verify?token="+token, nil).accessToken(t)
	p, err := e.m.Authenticate(context.Background(), access)
	if err != nil {
		t.Fatal(err)
	}
	u := p.User()
	if u.Email != "new.person@example.com" || !u.EmailVerified || u.Username != "new_person" {
		t.Errorf("created %+v", u)
	}
	if n := len(e.audit(u.UUID, emaillogin.AuditSignUp)); n != 1 {
		t.Errorf("%d sign-up entries", n)
	}
	// The random password is nobody's.
	if _, err := e.m.Login(context.Background(), "new_person", ""); err == nil {
		t.Error("an empty password signs in")
	}
	// A second sign-up link for the address now signs in to that account.
	e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": "new.person@example.com"})
	msg = e.nextMail()
	if !strings.Contains(msg.Subject, "sign-in link") {
		t.Errorf("a known address got %q", msg.Subject)
	}
}
