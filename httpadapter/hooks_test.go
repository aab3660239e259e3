package httpadapter_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// TestHooksHTTP: Config.Hooks over HTTP, on both databases: an
// allow-list BeforeRegister refuses a registration (403
// registration_refused, nothing written) and a third-party account of
// another domain; BeforeLogin refuses a password login and a third-party
// login with the hook's own *Error; AfterLogin's panic leaves the login
// answered 200.
func TestHooksHTTP(t *testing.T) {
	var mu sync.Mutex
	var methods []string
	hooks := usermgmt.Hooks{
		BeforeRegister: func(_ context.Context, nu usermgmt.NewUser) error {
			if !strings.HasSuffix(nu.Email, "@example.com") {
				return errors.New("not on the allow-list")
			}
			return nil
		},
		BeforeLogin: func(_ context.Context, u *usermgmt.User, method string) error {
			mu.Lock()
			methods = append(methods, method)
			mu.Unlock()
			if strings.HasPrefix(u.Username, "barred") {
				return usermgmt.NewError(http.StatusForbidden, "account_barred", "This account is barred from signing in.")
			}
			return nil
		},
		AfterLogin: func(context.Context, *usermgmt.User, *usermgmt.Session, string) { panic("the host's bug") },
	}
	eachOAuthBackend(t, func(c *usermgmt.Config) { c.Hooks = hooks }, func(t *testing.T, e *oauthEnv) {
		ctx := context.Background()
		register := func(name, email string) result {
			return e.do(request{method: "POST", path: "/api/auth/register", json: map[string]string{
				"username": name, "email": email, "password": password, "confirm_password": password}})
		}
		if d := register("jane_doe", "jane@other.org").wantError(t, http.StatusForbidden, "registration_refused"); strings.Contains(d, "allow-list") {
			t.Errorf("the hook's text reached the client: %q", d)
		}
		if _, err := e.m.UserByLogin(ctx, "jane@other.org"); !errors.Is(err, usermgmt.ErrUserNotFound) {
			t.Errorf("a refused registration wrote a user: %v", err)
		}
		if entries, err := e.m.Store().Audit(ctx, usermgmt.AuditQuery{}); err != nil || len(entries) != 0 {
			t.Errorf("a refused registration wrote %d audit entries (%v)", len(entries), err)
		}
		// An allowed registration, then its password login despite the
		// panicking AfterLogin.
		register("jane_doe", "jane@example.com").tokens(t)
		tk := e.env.login("jane_doe")
		if e.whoami(tk.AccessToken) == "" {
			t.Fatal("no user behind the token")
		}
		if !strings.Contains(e.logs.String(), "AfterLogin hook panicked") {
			t.Error("the AfterLogin panic was not logged")
		}

		// A third-party account of another domain is a refused registration.
		e.login(t, "github", identity("github", 1, "dev@other.org")).wantError(t, http.StatusForbidden, "registration_refused")
		if _, err := e.m.UserByLogin(ctx, "dev@other.org"); !errors.Is(err, usermgmt.ErrUserNotFound) {
			t.Errorf("a refused OAuth registration wrote a user: %v", err)
		}
		e.login(t, "github", identity("github", 2, "dev@example.com")).tokens(t)

		// BeforeLogin's *Error is the answer, to a password login and to a
		// third-party login of a barred account.
		if _, err := e.m.CreateUser(ctx, usermgmt.NewUser{Username: "barred_user", Email: "barred@example.com", Password: password, EmailVerified: true}); err != nil {
			t.Fatal(err)
		}
		e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{
			"username": {"barred_user"}, "password": {password}}}).wantError(t, http.StatusForbidden, "account_barred")
		id := identity("discord", 3, "barred@example.com")
		e.login(t, "discord", id).wantError(t, http.StatusForbidden, "account_barred")
		u, err := e.m.UserByLogin(ctx, "barred_user")
		if err != nil {
			t.Fatal(err)
		}
		if ss, err := e.m.Sessions(ctx, u.UUID); err != nil || len(ss) != 0 {
			t.Errorf("a refused login opened %d sessions (%v)", len(ss), err)
		}

		mu.Lock()
		defer mu.Unlock()
		joined := strings.Join(methods, " ")
		if !strings.Contains(joined, "password") || !strings.Contains(joined, "oauth:github") || !strings.Contains(joined, "oauth:discord") {
			t.Errorf("BeforeLogin methods %v", methods)
		}
	})
}
