package passkey_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/passkey/internal/softauthn"
)

// TestPasskeyBeforeLogin: a passkey sign-in passes Config.Hooks.BeforeLogin
// (method "passkey") once the assertion is verified, and its refusal is
// the answer, with no session opened; AfterLogin is told of the allowed
// one.
func TestPasskeyBeforeLogin(t *testing.T) {
	var mu sync.Mutex
	var before, after []string
	refuse := false
	e := newEnvConfig(t, "test-secret-of-at-least-32-bytes!!", func(c *usermgmt.Config) {
		c.Hooks = usermgmt.Hooks{
			BeforeLogin: func(_ context.Context, u *usermgmt.User, method string) error {
				mu.Lock()
				defer mu.Unlock()
				before = append(before, method)
				if refuse && method == "passkey" {
					return usermgmt.NewError(http.StatusForbidden, "device_not_allowed", "Sign in from a managed device.")
				}
				return nil
			},
			AfterLogin: func(_ context.Context, u *usermgmt.User, s *usermgmt.Session, method string) {
				mu.Lock()
				defer mu.Unlock()
				after = append(after, method)
			},
		}
	})
	u, tok := e.user("jane_doe", "Secret-pass-123")
	auth := softauthn.New(origin)
	auth.UV = true
	if a := e.register(auth, tok, "Laptop"); a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.body)
	}
	sessions := func() int {
		ss, err := e.m.Sessions(context.Background(), u.UUID)
		if err != nil {
			t.Fatal(err)
		}
		return len(ss)
	}
	open := sessions()

	refuse = true
	a := e.login(auth, nil)
	if a.status != http.StatusForbidden || code(t, a) != "device_not_allowed" {
		t.Fatalf("refused passkey login: %d %s", a.status, a.body)
	}
	if n := sessions(); n != open {
		t.Errorf("a refused passkey login opened a session (%d, was %d)", n, open)
	}
	refuse = false
	if a := e.login(auth, nil); a.status != http.StatusOK {
		t.Fatalf("passkey login: %d %s", a.status, a.body)
	}
	mu.Lock()
	defer mu.Unlock()
	// e.user's OpenSession, the refused passkey login, the allowed one.
	if len(before) != 3 || before[0] != usermgmt.MethodSession || before[1] != "passkey" || before[2] != "passkey" {
		t.Errorf("BeforeLogin methods %v", before)
	}
	if len(after) != 2 || after[1] != "passkey" {
		t.Errorf("AfterLogin methods %v", after)
	}
}
