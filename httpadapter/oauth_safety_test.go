package httpadapter_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// TestOAuthEmailLinkingSparesGuardedAccounts: a provider account claiming
// (verified) the email of an admin, a moderator or an account with a
// second factor is not linked to it and logs nobody in; the answer is the
// one of linking turned off, and the reason is logged at INFO. The owner
// links it from a signed-in session, after which it logs them in.
func TestOAuthEmailLinkingSparesGuardedAccounts(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		ctx := context.Background()
		mk := func(name string, roles ...string) *usermgmt.User {
			u, err := e.m.CreateUser(ctx, usermgmt.NewUser{Username: name, Email: name + "@example.com", Password: password,
				EmailVerified: true, Roles: roles})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		admin, moderator, guarded := mk("the_admin", usermgmt.RoleAdmin), mk("the_moderator", usermgmt.RoleModerator), mk("two_factor")
		setup, err := e.m.SetupOTP(ctx, guarded.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.m.ChangeOTPMethod(ctx, guarded.UUID, usermgmt.OTPAuthenticator, totpCode(t, setup.Secret, e.clock.Now()), ""); err != nil {
			t.Fatal(err)
		}
		for i, tt := range []struct {
			u      *usermgmt.User
			reason string
		}{
			{admin, "privileged role"}, {moderator, "privileged role"}, {guarded, "second factor"},
		} {
			r := e.login(t, "okta", identity("okta", i+1, strings.ToUpper(tt.u.Email)))
			msg := r.wantError(t, http.StatusConflict, "email_taken")
			if !strings.Contains(msg, "log in to it and link") {
				t.Errorf("%s: message %q", tt.u.Username, msg)
			}
			if xs, err := e.m.ExternalIdentities(ctx, tt.u.UUID); err != nil || len(xs) != 0 {
				t.Fatalf("%s: linked %v, %v", tt.u.Username, xs, err)
			}
			if !strings.Contains(e.logs.String(), "level=INFO msg=\"usermgmt: provider login refused\" provider=okta") ||
				!strings.Contains(e.logs.String(), tt.reason) {
				t.Fatalf("%s: no INFO line with the reason %q:\n%s", tt.u.Username, tt.reason, e.logs)
			}
		}
		// A plain account of a verified email still links by itself.
		plain := mk("plain_user")
		if e.whoami(e.login(t, "okta", identity("okta", 7, plain.Email)).tokens(t).AccessToken) != plain.UUID {
			t.Fatal("a plain account was not linked by its email")
		}

		// From the admin's signed-in session the same provider account
		// links, and then logs the admin in.
		adminTokens := e.env.login("the_admin")
		id := identity("okta", 1, admin.Email)
		r := e.do(e.consent(t, e.start(t, "okta", e.linkURL(t, "okta", adminTokens.AccessToken, nil)), id))
		r.wantStatus(t, http.StatusOK)
		if r.object(t)["user_uuid"] != admin.UUID {
			t.Fatalf("link answer %s", r.body)
		}
		if e.whoami(e.login(t, "okta", id).tokens(t).AccessToken) != admin.UUID {
			t.Fatal("the linked account did not log the admin in")
		}
	})
}

// TestOAuthIssuerParameter: the iss parameter of the callback (RFC 9207),
// when the provider sends it, must be the provider's issuer; a provider
// that promises it in its metadata must send it. A refused answer spends
// the flow and exchanges no code.
func TestOAuthIssuerParameter(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		f := e.fakes["okta"]
		f.SendIss = true // before the first discovery
		withIss := func(q request, iss string, drop bool) request {
			u, _ := url.Parse(q.path)
			v := u.Query()
			if drop {
				v.Del("iss")
			} else {
				v.Set("iss", iss)
			}
			u.RawQuery = v.Encode()
			q.path = u.String()
			return q
		}
		// The provider's own issuer passes.
		cb := e.consent(t, e.start(t, "okta", "/api/oauth/okta"), identity("okta", 1, "iss.ok@example.com"))
		if !strings.Contains(cb.path, "iss=") {
			t.Fatalf("the fake sent no iss: %s", cb.path)
		}
		e.do(cb).tokens(t)
		before := f.Exchanges()
		// Another provider's issuer (a mix-up) is refused.
		cb = e.consent(t, e.start(t, "okta", "/api/oauth/okta"), identity("okta", 1, "iss.ok@example.com"))
		e.do(withIss(cb, e.fakes["google"].URL(), false)).wantError(t, http.StatusUnauthorized, "oauth_failed")
		// The flow is spent: the genuine answer after it is refused too.
		e.do(cb).wantError(t, http.StatusBadRequest, "invalid_oauth_state")
		// A missing iss from a provider that promised one is refused.
		cb = e.consent(t, e.start(t, "okta", "/api/oauth/okta"), identity("okta", 1, "iss.ok@example.com"))
		e.do(withIss(cb, "", true)).wantError(t, http.StatusUnauthorized, "oauth_failed")
		if n := f.Exchanges(); n != before {
			t.Errorf("refused answers exchanged %d codes", n-before)
		}
		if !strings.Contains(e.logs.String(), "oauth: authorization response from another issuer") {
			t.Errorf("the reason was not logged:\n%s", e.logs)
		}
		// A provider that does not promise iss may omit it, but what it
		// sends is checked.
		g := e.consent(t, e.start(t, "google", "/api/oauth/google"), identity("google", 2, "iss.google@example.com"))
		e.do(withIss(g, f.URL(), false)).wantError(t, http.StatusUnauthorized, "oauth_failed")
		g = e.consent(t, e.start(t, "google", "/api/oauth/google"), identity("google", 2, "iss.google@example.com"))
		e.do(g).tokens(t)
	})
}

// TestOAuthExchangeNotRetried: a code the provider refuses is presented
// once, not again in another client-authentication style (which would
// replay a spent code), and the refusal is logged at INFO.
func TestOAuthExchangeNotRetried(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		for _, p := range []string{"okta", "github", "discord", "twitch"} {
			f := e.fakes[p]
			cb := e.consent(t, e.start(t, p, "/api/oauth/"+p), identity(p, 1, p+".retry@example.com"))
			u, _ := url.Parse(cb.path)
			v := u.Query()
			v.Set("code", "code-that-was-spent")
			u.RawQuery = v.Encode()
			cb.path = u.String()
			before := f.Exchanges()
			e.do(cb).wantError(t, http.StatusUnauthorized, "oauth_failed")
			if n := f.Exchanges() - before; n != 1 {
				t.Errorf("%s: the refused code was presented %d times, want 1", p, n)
			}
			if !strings.Contains(e.logs.String(), "provider login refused\" provider="+p) {
				t.Errorf("%s: the refusal was not logged at INFO:\n%s", p, e.logs)
			}
		}
	})
}
