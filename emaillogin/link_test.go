package emaillogin_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/emaillogin/secretstore"
	"github.com/usermgmt/usermgmt/store"
)

// TestMagicLinkHTTP: the link is mailed, signs in once with the token
// answer, verifies the address and is audited as a magic-link login.
func TestMagicLinkHTTP(t *testing.T) {
	e := newEnv(t, emaillogin.Config{}, nil)
	u := e.user("jane_doe")
	if u.EmailVerified {
		t.Fatal("the test wants an unverified address")
	}
	a := e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": "Jane_Doe@Example.com"})
	if a.status != http.StatusAccepted || !strings.Contains(string(a.body), `"detail"`) {
		t.Fatalf("request: %d %s", a.status, a.body)
	}
	msg := e.nextMail()
	if len(msg.To) != 1 || msg.To[0] != u.Email || !strings.Contains(msg.Subject, "sign-in link") {
		t.Fatalf("mail: %+v", msg)
	}
	link, token := tokenOf(t, msg)
	if !strings.HasPrefix(link, baseURL+"/api/auth/magic-link/verify?token=") || !strings.Contains(msg.HTML, token) {
		t.Fatalf("link %q", link)
	}
	// Only the hash is stored.
	s, err := e.m.Store().(secretstore.Store).SecretByEmail(context.Background(), secretstore.KindLink, u.Email, e.clock.Now())
	if err != nil || bytes.Contains(s.Hash, []byte(token)) || !s.ExpiresAt.Equal(e.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("stored secret %+v, %v", s, err)
	}

	// A HEAD (a mail scanner probing the link) does not spend it.
	if a := e.do(http.MethodHead, "/api/auth/magic-link/verify?token="+token, nil); a.status != http.StatusMethodNotAllowed {
		t.Errorf("HEAD: %d %s, want 405", a.status, a.body)
	}
	e.clock.Add(14 * time.Minute)
	access := e.do(http.MethodGet, "/api/auth/magic-link/verify?token="+token, nil).accessToken(t)
	if p, err := e.m.Authenticate(context.Background(), access); err != nil || p.User().UUID != u.UUID {
		t.Fatalf("Authenticate: %v", err)
	}
	if got, _ := e.m.User(context.Background(), u.UUID); !got.EmailVerified {
		t.Error("opening the link did not verify the address")
	}
	logins := e.audit(u.UUID, usermgmt.AuditLogin)
	if len(logins) != 1 || logins[0].Detail != "method=magic_link" {
		t.Errorf("login audit: %+v", logins)
	}
	if n := len(e.audit(u.UUID, emaillogin.AuditLinkSent)); n != 1 {
		t.Errorf("%d link-sent entries, want 1", n)
	}
	// Single-use.
	if a := e.do(http.MethodGet, "/api/auth/magic-link/verify?token="+token, nil); a.status != http.StatusUnauthorized || a.code(t) != "magic_link_invalid" {
		t.Errorf("second use: %d %s", a.status, a.body)
	}
}

// TestMagicLinkNoEnumeration: an unknown address, an inactive account and
// a known one get byte-identical answers, and the answer does not wait for
// the account's lookup (it is served in the background).
func TestMagicLinkNoEnumeration(t *testing.T) {
	gate := make(chan struct{})
	e := newEnv(t, emaillogin.Config{}, nil)
	e.user("jane_doe")
	off := e.user("banned_one")
	if _, err := e.m.Ban(context.Background(), off.UUID, "spam"); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, addr := range []string{"jane_doe@example.com", "nobody@example.com", "banned_one@example.com"} {
		for _, path := range []string{"/api/auth/magic-link", "/api/auth/email-code"} {
			a := e.do(http.MethodPost, path, map[string]string{"email": addr})
			if a.status != http.StatusAccepted {
				t.Fatalf("%s %s: %d %s", path, addr, a.status, a.body)
			}
			bodies = append(bodies, path+" "+string(a.body))
		}
	}
	for i := 2; i < len(bodies); i++ {
		if bodies[i] != bodies[i%2] {
			t.Errorf("answers differ: %q vs %q", bodies[i], bodies[i%2])
		}
	}
	e.noSecret(secretstore.KindLink, "nobody@example.com")
	e.noSecret(secretstore.KindCode, "nobody@example.com")
	e.noSecret(secretstore.KindLink, "banned_one@example.com")
	e.noSecret(secretstore.KindCode, "banned_one@example.com")
	if n := len(e.audit(off.UUID, emaillogin.AuditLinkSent, emaillogin.AuditCodeSent)); n != 0 {
		t.Errorf("the inactive account was sent %d secrets", n)
	}

	// The answer comes while the lookup is still blocked.
	var gated *gatedStore
	slow := newEnv(t, emaillogin.Config{}, func(c *usermgmt.Config) {
		gated = &gatedStore{DB: c.Store.(*store.DB), gate: gate}
		c.Store = gated
	})
	done := make(chan answer, 1)
	go func() {
		done <- slow.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": "jane_doe@example.com"})
	}()
	select {
	case a := <-done:
		if a.status != http.StatusAccepted {
			t.Fatalf("gated request: %d %s", a.status, a.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the answer waited for the account's lookup")
	}
	for deadline := time.Now().Add(10 * time.Second); gated.waiting.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the background lookup never ran")
		}
	}
	close(gate)
}

// gatedStore blocks lookups by email until gate is closed.
type gatedStore struct {
	*store.DB
	gate    chan struct{}
	waiting atomic.Int32
}

func (g *gatedStore) UserByEmail(ctx context.Context, email string) (*usermgmt.User, error) {
	g.waiting.Add(1)
	<-g.gate
	return g.DB.UserByEmail(ctx, email)
}

// TestExpiredSecretsSwept: the secrets nobody used are removed once they
// expire, by a later request's job.
func TestExpiredSecretsSwept(t *testing.T) {
	e := newEnv(t, emaillogin.Config{}, nil)
	e.user("jane_doe")
	start := e.clock.Now()
	e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": "jane_doe@example.com"})
	e.nextMail()
	st := e.m.Store().(secretstore.Store)
	if _, err := st.SecretByEmail(context.Background(), secretstore.KindLink, "jane_doe@example.com", start); err != nil {
		t.Fatalf("the link before it expires: %v", err)
	}
	e.clock.Add(16 * time.Minute)
	e.do(http.MethodPost, "/api/auth/magic-link", map[string]string{"email": "nobody@example.com"})
	e.el.Wait()
	// Read as of before its expiry: the row itself must be gone.
	if s, err := st.SecretByEmail(context.Background(), secretstore.KindLink, "jane_doe@example.com", start); err == nil {
		t.Errorf("an expired link stayed: %+v", s)
	}
}
