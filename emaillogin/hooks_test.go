package emaillogin_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin"
)

// TestEmailCodeBeforeLogin: a mailed code's sign-in passes
// Config.Hooks.BeforeLogin (method "email_code") once the code is
// right; a plain error refuses it with login_refused (403), no session
// opened; a magic link names "magic_link".
func TestEmailCodeBeforeLogin(t *testing.T) {
	var mu sync.Mutex
	var methods []string
	e := newEnv(t, emaillogin.Config{}, func(c *usermgmt.Config) {
		c.Hooks.BeforeLogin = func(_ context.Context, u *usermgmt.User, method string) error {
			mu.Lock()
			defer mu.Unlock()
			methods = append(methods, method)
			if u.Username == "barred_user" {
				return errors.New("barred by the host")
			}
			return nil
		}
	})
	barred := e.user("barred_user")
	code := e.requestCode("barred_user@example.com")
	if a := e.verifyCode("barred_user@example.com", code); a.status != http.StatusForbidden || a.code(t) != "login_refused" ||
		strings.Contains(string(a.body), "barred by") {
		t.Fatalf("refused code sign-in: %d %s", a.status, a.body)
	}
	if ss, err := e.m.Sessions(context.Background(), barred.UUID); err != nil || len(ss) != 0 {
		t.Errorf("a refused sign-in opened %d sessions (%v)", len(ss), err)
	}

	e.user("jane_doe")
	e.verifyCode("jane_doe@example.com", e.requestCode("jane_doe@example.com")).accessToken(t)
	e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": "jane_doe@example.com"})
	_, token := tokenOf(t, e.nextMail())
	e.do(http.MethodGet, "/api/auth/magic-link/verify?token="+token, nil).accessToken(t)

	mu.Lock()
	defer mu.Unlock()
	if strings.Join(methods, " ") != "email_code email_code magic_link" {
		t.Errorf("BeforeLogin methods %v", methods)
	}
}

// TestMagicLinkSignUpBeforeRegister: a sign-up link of an address
// Config.Hooks.BeforeRegister refuses creates no account and answers the
// hook's *Error; an allowed one creates it.
func TestMagicLinkSignUpBeforeRegister(t *testing.T) {
	var mu sync.Mutex
	var seen []usermgmt.NewUser
	e := newEnv(t, emaillogin.Config{SignUp: true}, func(c *usermgmt.Config) {
		c.Hooks.BeforeRegister = func(_ context.Context, nu usermgmt.NewUser) error {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, nu)
			if !strings.HasSuffix(nu.Email, "@example.com") {
				return usermgmt.NewError(http.StatusForbidden, "domain_not_allowed", "Use your work address.")
			}
			return nil
		}
	})
	signUp := func(addr string) []byte {
		t.Helper()
		if a := e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": addr}); a.status != http.StatusAccepted {
			t.Fatalf("request: %d %s", a.status, a.body)
		}
		_, token := tokenOf(t, e.nextMail())
		a := e.do(http.MethodGet, "/api/auth/magic-link/verify?token="+token, nil)
		if addr == "new.person@other.org" {
			if a.status != http.StatusForbidden || a.code(t) != "domain_not_allowed" {
				t.Fatalf("refused sign-up: %d %s", a.status, a.body)
			}
			return nil
		}
		a.accessToken(t)
		return a.body
	}
	signUp("new.person@other.org")
	if _, err := e.m.UserByLogin(context.Background(), "new.person@other.org"); !errors.Is(err, usermgmt.ErrUserNotFound) {
		t.Errorf("a refused sign-up created the account: %v", err)
	}
	signUp("new.person@example.com")
	if _, err := e.m.UserByLogin(context.Background(), "new.person@example.com"); err != nil {
		t.Errorf("the allowed sign-up: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0].Username != "new_person" || seen[0].Email != "new.person@other.org" || !seen[0].EmailVerified ||
		seen[0].Password != "" {
		t.Errorf("BeforeRegister saw %+v", seen)
	}
}
