package oauth_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/usermgmt/usermgmt/internal/oauthtest"
	"github.com/usermgmt/usermgmt/oauth"
)

// TestExchangeSpendsTheCodeOnce: a refused code exchange is not tried
// again with the same code in the other client authentication style
// (x/oauth2's auto-detection does that), whichever style the provider
// takes.
func TestExchangeSpendsTheCodeOnce(t *testing.T) {
	for _, methods := range [][]string{nil, {"client_secret_basic"}, {"client_secret_post"}} {
		f := oauthtest.New(t, oauthtest.OIDC)
		f.AuthMethods = methods
		p, err := oauth.NewOIDC(oauth.OIDCConfig{Name: "oidc", Issuer: f.URL(), ClientID: oauthtest.ClientID, ClientSecret: oauthtest.ClientSecret})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		verifier := oauth2.GenerateVerifier()
		u, err := oauth.AuthCodeURL(ctx, p, callback, "st", verifier, "n")
		if err != nil {
			t.Fatal(err)
		}
		f.SetIdentity(oauthtest.Identity{Subject: "s1", Email: "a@example.com", EmailVerified: true})
		cb, err := f.Authorize(u)
		if err != nil {
			t.Fatal(err)
		}
		cu, _ := url.Parse(cb)
		code := cu.Query().Get("code")
		if _, _, err := oauth.Exchange(ctx, p, callback, code, verifier, "n"); err != nil {
			t.Fatalf("methods %v: first exchange: %v", methods, err)
		}
		if _, _, err := oauth.Exchange(ctx, p, callback, code, verifier, "n"); !errors.Is(err, oauth.ErrExchange) {
			t.Fatalf("methods %v: replayed code: %v, want ErrExchange", methods, err)
		}
		if n := f.Exchanges(); n != 2 {
			t.Errorf("methods %v: the provider saw %d code exchanges for 2 attempts, want 2 (no retry of a spent code)", methods, n)
		}
	}
}

func TestCheckIssuer(t *testing.T) {
	ctx := context.Background()
	f := oauthtest.New(t, oauthtest.OIDC)
	p, err := oauth.NewOIDC(oauth.OIDCConfig{Name: "oidc", Issuer: f.URL(), ClientID: oauthtest.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	promising := oauthtest.New(t, oauthtest.OIDC)
	promising.SendIss = true
	pp, err := oauth.NewOIDC(oauth.OIDCConfig{Name: "strict", Issuer: promising.URL(), ClientID: oauthtest.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	gh := oauthtest.New(t, oauthtest.GitHub)
	withIss := oauth.GitHub(oauth.Config{ClientID: "c", Issuer: "https://github.com/login/oauth"})
	tests := []struct {
		name string
		p    oauth.Provider
		iss  string
		ok   bool
	}{
		{"no iss, not promised", p, "", true},
		{"its issuer", p, f.URL(), true},
		{"another issuer", p, promising.URL(), false},
		{"a trailing slash is another issuer", p, f.URL() + "/", false},
		{"promised and missing", pp, "", false},
		{"promised and present", pp, promising.URL(), true},
		{"plain OAuth 2.0 without an issuer", oauth.GitHub(restConfig(gh)), "https://evil.example", true},
		{"plain OAuth 2.0 with its issuer", withIss, "https://github.com/login/oauth", true},
		{"plain OAuth 2.0 with another issuer", withIss, "https://evil.example", false},
	}
	for _, tt := range tests {
		err := oauth.CheckIssuer(ctx, tt.p, tt.iss)
		if tt.ok && err != nil || !tt.ok && !errors.Is(err, oauth.ErrIssuer) {
			t.Errorf("%s: CheckIssuer(%q) = %v, want ok=%v", tt.name, tt.iss, err, tt.ok)
		}
	}
}
