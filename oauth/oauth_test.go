package oauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/usermgmt/usermgmt/internal/oauthtest"
	"github.com/usermgmt/usermgmt/oauth"
)

const callback = "https://users.example.com/api/oauth/x/callback"

func restConfig(f *oauthtest.Provider) oauth.Config {
	return oauth.Config{ClientID: oauthtest.ClientID, ClientSecret: oauthtest.ClientSecret,
		AuthURL: f.AuthURL(), TokenURL: f.TokenURL(), APIURL: f.URL()}
}

// run does a whole flow of p against f as id and returns the profile.
func run(t *testing.T, p oauth.Provider, f *oauthtest.Provider, id oauthtest.Identity) (*oauth2.Token, *oauth.Profile, error) {
	t.Helper()
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	u, err := oauth.AuthCodeURL(ctx, p, callback, "the-state", verifier, "the-nonce")
	if err != nil {
		t.Fatal(err)
	}
	f.SetIdentity(id)
	cb, err := f.Authorize(u)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	cu, _ := url.Parse(cb)
	if cu.Query().Get("state") != "the-state" {
		t.Fatalf("callback %s", cb)
	}
	return oauth.Exchange(ctx, p, callback, cu.Query().Get("code"), verifier, "the-nonce")
}

func TestProfiles(t *testing.T) {
	gh := oauthtest.New(t, oauthtest.GitHub)
	dc := oauthtest.New(t, oauthtest.Discord)
	oidc := oauthtest.New(t, oauthtest.OIDC)
	mk := func(fn func(oauth.Config) (*oauth.OIDC, error)) oauth.Provider {
		p, err := fn(restConfig(oidc))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		p    oauth.Provider
		f    *oauthtest.Provider
		id   oauthtest.Identity
		want oauth.Profile
	}{
		{"github", oauth.GitHub(restConfig(gh)), gh, oauthtest.Identity{Subject: "42", Username: "Octo", Name: "Octo Cat", Picture: "https://a/1",
			GitHubEmails: []oauthtest.GitHubEmail{
				{Email: "second@example.com", Verified: true}, {Email: "no@users.noreply.github.com", Verified: true},
				{Email: "unverified@example.com"}, {Email: "primary@example.com", Primary: true, Verified: true},
			}},
			oauth.Profile{Provider: "github", ID: "42", Username: "Octo", DisplayName: "Octo Cat",
				Emails: []string{"primary@example.com", "second@example.com"}, PictureURL: "https://a/1"}},
		{"discord", oauth.Discord(restConfig(dc)), dc, oauthtest.Identity{Subject: "99", Username: "disc", Picture: "abc", Email: "d@example.com", EmailVerified: true},
			oauth.Profile{Provider: "discord", ID: "99", Username: "disc", DisplayName: "disc", Emails: []string{"d@example.com"},
				PictureURL: "https://cdn.discordapp.com/avatars/99/abc.png"}},
		{"discord unverified", oauth.Discord(restConfig(dc)), dc, oauthtest.Identity{Subject: "98", Username: "disc", Email: "d@example.com"},
			oauth.Profile{Provider: "discord", ID: "98", Username: "disc", DisplayName: "disc"}},
		{"google", mk(oauth.Google), oidc, oauthtest.Identity{Subject: "g1", Username: "jane", Name: "Jane D", Email: "j@example.com", EmailVerified: true, Picture: "https://p/j"},
			oauth.Profile{Provider: "google", ID: "g1", Username: "jane", DisplayName: "Jane D", Emails: []string{"j@example.com"}, PictureURL: "https://p/j"}},
		{"twitch unverified", mk(oauth.Twitch), oidc, oauthtest.Identity{Subject: "t1", Username: "streamer", Email: "s@example.com"},
			oauth.Profile{Provider: "twitch", ID: "t1", Username: "streamer", DisplayName: "streamer"}},
		{"microsoft work account", mk(oauth.Microsoft), oidc, oauthtest.Identity{Subject: "m1", Username: "w@corp.example", Email: "w@corp.example", EmailVerified: true,
			Claims: map[string]any{"tid": "0000-work"}},
			oauth.Profile{Provider: "microsoft", ID: "m1", Username: "w@corp.example", DisplayName: "w@corp.example"}},
		{"microsoft personal account", mk(oauth.Microsoft), oidc, oauthtest.Identity{Subject: "m2", Username: "me", Email: "me@outlook.example",
			Claims: map[string]any{"tid": oauth.MicrosoftConsumerTenant}},
			oauth.Profile{Provider: "microsoft", ID: "m2", Username: "me", DisplayName: "me", Emails: []string{"me@outlook.example"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, got, err := run(t, tt.p, tt.f, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.RefreshToken == "" {
				t.Fatalf("token %+v", tok)
			}
			if got.Provider != tt.want.Provider || got.ID != tt.want.ID || got.Username != tt.want.Username ||
				got.DisplayName != tt.want.DisplayName || !slices.Equal(got.Emails, tt.want.Emails) || got.PictureURL != tt.want.PictureURL {
				t.Fatalf("profile\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAuthCodeURL(t *testing.T) {
	f := oauthtest.New(t, oauthtest.OIDC)
	p, err := oauth.Twitch(restConfig(f))
	if err != nil {
		t.Fatal(err)
	}
	u, err := oauth.AuthCodeURL(context.Background(), p, callback, "st", "verifier-of-enough-length-0123456789abcdefgh", "nn")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.Parse(u)
	v := q.Query()
	if v.Get("state") != "st" || v.Get("nonce") != "nn" || v.Get("code_challenge_method") != "S256" ||
		v.Get("code_challenge") != oauth2.S256ChallengeFromVerifier("verifier-of-enough-length-0123456789abcdefgh") ||
		!strings.Contains(v.Get("claims"), `"email_verified"`) || v.Get("redirect_uri") != callback {
		t.Fatalf("auth URL %s", u)
	}
}

func TestExchangeFailures(t *testing.T) {
	f := oauthtest.New(t, oauthtest.GitHub)
	p := oauth.GitHub(restConfig(f))
	ctx := context.Background()
	u, _ := oauth.AuthCodeURL(ctx, p, callback, "s", oauth2.GenerateVerifier(), "")
	cb, err := f.Authorize(u)
	if err != nil {
		t.Fatal(err)
	}
	cu, _ := url.Parse(cb)
	// A wrong verifier fails (and spends the code).
	if _, _, err := oauth.Exchange(ctx, p, callback, cu.Query().Get("code"), oauth2.GenerateVerifier(), ""); !errors.Is(err, oauth.ErrExchange) {
		t.Fatalf("wrong verifier: %v", err)
	}
	bad := oauth.GitHub(oauth.Config{ClientID: oauthtest.ClientID, ClientSecret: oauthtest.ClientSecret,
		AuthURL: f.AuthURL(), TokenURL: f.TokenURL(), APIURL: f.URL() + "/nowhere"})
	if _, err := bad.Profile(ctx, &oauth2.Token{AccessToken: "x"}, ""); !errors.Is(err, oauth.ErrProfile) {
		t.Fatalf("profile of a bad API: %v", err)
	}
}

// oidcProvider returns a generic provider over the fake f.
func oidcProvider(t *testing.T, f *oauthtest.Provider, now func() time.Time) *oauth.OIDC {
	t.Helper()
	p, err := oauth.NewOIDC(oauth.OIDCConfig{Name: "okta", Issuer: f.URL(), ClientID: oauthtest.ClientID, ClientSecret: oauthtest.ClientSecret, Clock: now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyIDToken(t *testing.T) {
	f := oauthtest.New(t, oauthtest.OIDC)
	now := time.Now()
	p := oidcProvider(t, f, func() time.Time { return now })
	ctx := context.Background()
	id := oauthtest.Identity{Subject: "s1", Email: "a@example.com", EmailVerified: true}
	good, err := f.SignIDToken(id, "n1", now)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := p.VerifyIDToken(ctx, good, "n1"); err != nil || c["sub"] != "s1" {
		t.Fatalf("good token: %v %v", c, err)
	}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(claims jwt.MapClaims, method jwt.SigningMethod, key any, kid string) string {
		tk := jwt.NewWithClaims(method, claims)
		tk.Header["kid"] = kid
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": f.URL(), "aud": oauthtest.ClientID, "sub": "s1", "nonce": "n1",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims { c := base(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := base(); delete(c, k); return c }
	bad := map[string]string{
		"wrong nonce":       mustSign(t, f, id, "n2", now),
		"other key":         sign(base(), jwt.SigningMethodRS256, other, "test-key"),
		"unknown kid":       sign(base(), jwt.SigningMethodRS256, other, "rotated"),
		"HS256":             sign(base(), jwt.SigningMethodHS256, []byte("test-secret"), "test-key"),
		"none":              sign(base(), jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "test-key"),
		"wrong issuer":      "",
		"wrong audience":    "",
		"expired":           "",
		"no expiry":         "",
		"issued in future":  "",
		"no subject":        "",
		"no nonce":          "",
		"azp of another":    "",
		"garbage":           "not.a.jwt",
		"empty":             "",
		"tampered":          good[:len(good)-4] + "AAAA",
		"payload tampered":  tamper(good),
		"trailing segments": good + ".x",
	}
	key := func(c jwt.MapClaims) string { return sign(c, jwt.SigningMethodRS256, oauthtest.Key(), "test-key") }
	bad["wrong issuer"] = key(with("iss", "https://evil.example"))
	bad["wrong audience"] = key(with("aud", "other-client"))
	bad["expired"] = key(with("exp", now.Add(-2*time.Minute).Unix()))
	bad["no expiry"] = key(without("exp"))
	bad["issued in future"] = key(with("iat", now.Add(time.Hour).Unix()))
	bad["no subject"] = key(without("sub"))
	bad["no nonce"] = key(without("nonce"))
	bad["azp of another"] = key(func() jwt.MapClaims {
		c := with("aud", []string{oauthtest.ClientID, "x"})
		c["azp"] = "x"
		return c
	}())
	for name, tok := range bad {
		if _, err := p.VerifyIDToken(ctx, tok, "n1"); !errors.Is(err, oauth.ErrIDToken) {
			t.Errorf("%s: error %v, want ErrIDToken", name, err)
		}
	}
	// The expected nonce must not be empty, even for a token without one.
	if _, err := p.VerifyIDToken(ctx, key(without("nonce")), ""); err == nil {
		t.Error("empty nonce accepted")
	}
}

func mustSign(t *testing.T, f *oauthtest.Provider, id oauthtest.Identity, nonce string, now time.Time) string {
	t.Helper()
	s, err := f.SignIDToken(id, nonce, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tamper changes the subject in a token's payload, keeping its signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	_ = json.Unmarshal(payload, &c)
	c["sub"] = "someone-else"
	b, _ := json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func TestDiscoveryRefusesAnotherIssuer(t *testing.T) {
	f := oauthtest.New(t, oauthtest.OIDC)
	p, err := oauth.NewOIDC(oauth.OIDCConfig{Name: "x", Issuer: f.URL() + "/other", ClientID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Discover(context.Background()); !errors.Is(err, oauth.ErrDiscovery) {
		t.Fatalf("discovery of a missing document: %v", err)
	}
	for _, cfg := range []oauth.OIDCConfig{
		{Name: "Bad Name", Issuer: f.URL(), ClientID: "c"},
		{Name: "x", Issuer: "ftp://x", ClientID: "c"},
		{Name: "x", Issuer: f.URL()},
	} {
		if _, err := oauth.NewOIDC(cfg); err == nil {
			t.Errorf("NewOIDC(%+v) accepted", cfg)
		}
	}
}

func TestParseKeySet(t *testing.T) {
	k := oauthtest.Key()
	n := base64.RawURLEncoding.EncodeToString(k.N.Bytes())
	e := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	tests := []struct {
		name  string
		doc   string
		keys  int
		valid bool
	}{
		{"one key", `{"keys":[{"kty":"RSA","kid":"a","n":"` + n + `","e":"` + e + `"}]}`, 1, true},
		{"skips others", `{"keys":[{"kty":"EC","kid":"b"},{"kty":"RSA","use":"enc","kid":"c","n":"` + n + `","e":"` + e + `"},{"kty":"RSA","alg":"RS512","kid":"d","n":"` + n + `","e":"` + e + `"}]}`, 0, true},
		{"small key", `{"keys":[{"kty":"RSA","kid":"a","n":"` + base64.RawURLEncoding.EncodeToString(small.N.Bytes()) + `","e":"` + e + `"}]}`, 0, false},
		{"bad base64", `{"keys":[{"kty":"RSA","kid":"a","n":"!!","e":"` + e + `"}]}`, 0, false},
		{"even exponent", `{"keys":[{"kty":"RSA","kid":"a","n":"` + n + `","e":"Ag"}]}`, 0, false},
		{"not json", `[`, 0, false},
	}
	for _, tt := range tests {
		ks, err := oauth.ParseKeySet([]byte(tt.doc))
		if (err == nil) != tt.valid {
			t.Errorf("%s: error %v", tt.name, err)
			continue
		}
		if err == nil && ks.Len() != tt.keys {
			t.Errorf("%s: %d keys, want %d", tt.name, ks.Len(), tt.keys)
		}
	}
}

func FuzzParseKeySet(f *testing.F) {
	k := oauthtest.Key()
	n := base64.RawURLEncoding.EncodeToString(k.N.Bytes())
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"a","n":"` + n + `","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AA","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"` + n + `","e":"/////w"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := oauth.ParseKeySet(data)
		if err != nil {
			if !errors.Is(err, oauth.ErrDiscovery) {
				t.Fatalf("error %v does not match ErrDiscovery", err)
			}
			return
		}
		if ks.Len() > 100 {
			t.Fatalf("%d keys", ks.Len())
		}
		for _, kid := range []string{"", "a"} {
			if key, ok := ks.Key(kid); ok && (key.N.BitLen() < 2048 || key.E < 3) {
				t.Fatalf("weak key accepted: %d bits, e=%d", key.N.BitLen(), key.E)
			}
		}
	})
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{"github": true, "my-idp_2": true, "": false, "GitHub": false, "a/b": false,
		strings.Repeat("a", 33): false, "é": false} {
		if oauth.ValidName(name) != want {
			t.Errorf("ValidName(%q) = %v", name, !want)
		}
	}
}
