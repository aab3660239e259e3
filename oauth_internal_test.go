package usermgmt

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/usermgmt/usermgmt/internal/netguard"
)

// oauthManager is a Manager with just what the oauth helpers need.
func oauthManager(t testing.TB, mod func(*Config)) *Manager {
	t.Helper()
	cfg := Config{JWTSecret: []byte("0123456789abcdef0123456789abcdef"),
		OAuthRedirectAllowList: []string{"https://app.example.com/after", "http://localhost:3000"}}
	if mod != nil {
		mod(&cfg)
	}
	cfg = cfg.withDefaults()
	kit, err := newOAuthKit(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Manager{cfg: cfg, oauth: kit}
}

func TestSealToken(t *testing.T) {
	m := oauthManager(t, nil)
	tok := &oauth2.Token{AccessToken: "acc", TokenType: "Bearer", RefreshToken: "ref", Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	sealed, err := m.sealToken(tok, "github", "42")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("acc")) || bytes.Contains(sealed, []byte("ref")) {
		t.Fatal("sealed token shows its plaintext")
	}
	got, err := m.openToken(sealed, "github", "42")
	if err != nil || got.AccessToken != "acc" || got.RefreshToken != "ref" || got.TokenType != "Bearer" || !got.Expiry.Equal(tok.Expiry) {
		t.Fatalf("open = %+v, %v", got, err)
	}
	// Bound to its account and its key; tampering is detected.
	if _, err := m.openToken(sealed, "github", "43"); err == nil {
		t.Error("opened for another subject")
	}
	if _, err := m.openToken(sealed, "gitlab", "42"); err == nil {
		t.Error("opened for another provider")
	}
	for i := range sealed {
		c := bytes.Clone(sealed)
		c[i] ^= 1
		if _, err := m.openToken(c, "github", "42"); err == nil {
			t.Fatalf("tampered byte %d accepted", i)
		}
	}
	for _, short := range [][]byte{nil, {sealVersion}, sealed[:10]} {
		if _, err := m.openToken(short, "github", "42"); err == nil {
			t.Error("short input accepted")
		}
	}
	other := oauthManager(t, func(c *Config) { c.OAuthTokenKey = []byte("another key of 32 bytes........!") })
	if _, err := other.openToken(sealed, "github", "42"); err == nil {
		t.Error("opened with another key")
	}
	// Two seals of one token differ (fresh nonces).
	again, _ := m.sealToken(tok, "github", "42")
	if bytes.Equal(again, sealed) {
		t.Error("nonce reused")
	}
}

func TestOAuthRedirectAllowed(t *testing.T) {
	m := oauthManager(t, nil)
	for target, want := range map[string]bool{
		"https://app.example.com/after":                        true,
		"https://APP.example.com/after/deeper?x=1":             true,
		"https://app.example.com/after/":                       true,
		"http://localhost:3000/anything":                       true,
		"http://localhost:3000":                                true,
		"https://app.example.com/afterwards":                   false,
		"https://app.example.com/":                             false,
		"http://app.example.com/after":                         false,
		"https://app.example.com:8443/after":                   false,
		"https://app.example.com.evil.net/after":               false,
		"https://evil.net/https://app.example.com/":            false,
		"https://u:p@app.example.com/after":                    false,
		"https://app.example.com/after#frag":                   false,
		"https://app.example.com/after#":                       false,
		"https://app.example.com/after/../admin":               false,
		"https://app.example.com/after/./x":                    false,
		"https://app.example.com/after\\..\\x":                 false,
		"//app.example.com/after":                              false,
		"/after":                                               false,
		"javascript:alert(1)":                                  false,
		"":                                                     false,
		"https://app.example.com/after\n":                      false,
		"https://app.example.com/" + strings.Repeat("a", 3000): false,
	} {
		if got := m.oauthRedirectAllowed(target); got != want {
			t.Errorf("oauthRedirectAllowed(%q) = %v, want %v", target, got, want)
		}
	}
	none := oauthManager(t, func(c *Config) { c.OAuthRedirectAllowList = nil })
	if none.oauthRedirectAllowed("https://app.example.com/after") {
		t.Error("an empty allow-list allowed a target")
	}
}

func FuzzOAuthRedirectAllowed(f *testing.F) {
	m := oauthManager(f, nil)
	for _, s := range []string{"https://app.example.com/after/x", "https://app.example.com/after/../x", "http://localhost:3000/", "//x", "https://app.example.com%2f@evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		if !m.oauthRedirectAllowed(target) {
			return
		}
		// Whatever passes is an absolute URL on an allowed origin.
		if !strings.HasPrefix(strings.ToLower(target), "https://app.example.com/after") && !strings.HasPrefix(strings.ToLower(target), "http://localhost:3000") {
			t.Fatalf("allowed %q", target)
		}
	})
}

func TestParseFlowSecret(t *testing.T) {
	good := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	if b, err := parseFlowSecret(good); err != nil || len(b) != 32 {
		t.Fatalf("good secret: %v", err)
	}
	for _, bad := range []string{"", "x", good[:42], good + "A", good[:42] + "=", strings.Repeat("A", 42) + "B", strings.Replace(good, "B", "+", 1), good[:40] + "\x00\x00\x00"} {
		if _, err := parseFlowSecret(bad); err == nil {
			t.Errorf("parseFlowSecret(%q) accepted", bad)
		}
	}
}

func FuzzParseFlowSecret(f *testing.F) {
	f.Add(base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
	f.Add("")
	f.Add(strings.Repeat("_", 43))
	f.Fuzz(func(t *testing.T, s string) {
		b, err := parseFlowSecret(s)
		if err != nil {
			if AsError(err).Status != http.StatusBadRequest {
				t.Fatalf("error %v is not a 400", err)
			}
			return
		}
		if len(b) != 32 || base64.RawURLEncoding.EncodeToString(b) != s {
			t.Fatalf("%q decoded to %x", s, b)
		}
	})
}

func TestFlowDerived(t *testing.T) {
	m := oauthManager(t, nil)
	v := m.oauth.flowDerived("pkce", "cookie", "state")
	if len(v) < 43 || v == m.oauth.flowDerived("nonce", "cookie", "state") || v == m.oauth.flowDerived("pkce", "cookie2", "state") ||
		v != m.oauth.flowDerived("pkce", "cookie", "state") {
		t.Fatalf("derived values are not distinct and stable: %q", v)
	}
}

func TestExternalUsername(t *testing.T) {
	for _, tt := range []struct{ handle, provider, want string }{
		{"Octocat", "github", "octocat"},
		{"Jane Doe", "google", "jane_doe"},
		{"  --Jé rôme!! ", "google", "j_r_me"},
		{"ab", "github", "ab_user"},
		{"", "discord", "discord"},
		{"", "my-idp", "my_idp"},
		{"", "x", "x_user"},
		{"w@corp.example", "microsoft", "w_corp_example"},
		{strings.Repeat("abc_", 20), "github", "abc_abc_abc_abc_abc_abc_abc_abc"},
	} {
		got := externalUsername(tt.handle, tt.provider)
		if got != tt.want || ValidateUsername(got) != nil {
			t.Errorf("externalUsername(%q, %q) = %q, want %q", tt.handle, tt.provider, got, tt.want)
		}
	}
}

func TestFetchProviderPicture(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 100)...)
	mux := http.NewServeMux()
	mux.HandleFunc("/ok.png", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(png)
	})
	mux.HandleFunc("/jpeg", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg; charset=binary")
		_, _ = w.Write([]byte{0xff, 0xd8, 0xff})
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>"))
	})
	mux.HandleFunc("/svg", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		_, _ = w.Write([]byte("<svg/>"))
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		for i := 0; i < 6; i++ {
			_, _ = w.Write(make([]byte, 1<<20))
		}
	})
	mux.HandleFunc("/huge-declared", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Length", "10000000")
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, _ *http.Request) { w.Header().Set("Content-Type", "image/png") })
	mux.HandleFunc("/missing", http.NotFound)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The test server is on loopback, which the default picture client
	// refuses (TestPictureClientPublicOnly).
	m := oauthManager(t, func(c *Config) { c.OAuthPictureClient = http.DefaultClient })
	ctx := context.Background()
	name, body, err := m.fetchProviderPicture(ctx, srv.URL+"/ok.png")
	if err != nil || name != "picture.png" || !bytes.Equal(body, png) {
		t.Fatalf("ok.png: %q %d bytes, %v", name, len(body), err)
	}
	if name, _, err := m.fetchProviderPicture(ctx, srv.URL+"/jpeg"); err != nil || name != "picture.jpg" {
		t.Fatalf("jpeg: %q %v", name, err)
	}
	for _, bad := range []string{"/html", "/svg", "/huge", "/huge-declared", "/empty", "/missing"} {
		if _, _, err := m.fetchProviderPicture(ctx, srv.URL+bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	for _, bad := range []string{"file:///etc/passwd", "ftp://x/y.png", "not a url", ""} {
		if _, _, err := m.fetchProviderPicture(ctx, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestValidateOAuthConfig(t *testing.T) {
	for name, c := range map[string]Config{
		"short key":          {OAuthTokenKey: []byte("short")},
		"bad allow entry":    {OAuthRedirectAllowList: []string{"/relative"}},
		"allow with query":   {OAuthRedirectAllowList: []string{"https://a.example/?x=1"}},
		"negative state ttl": {OAuthStateTTL: -time.Second},
	} {
		if errs := c.validateOAuth(); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestKeepRefreshToken: a login whose token carries no refresh token keeps
// the stored one; a new refresh token replaces it.
func TestKeepRefreshToken(t *testing.T) {
	m := oauthManager(t, nil)
	m.log = slog.New(slog.DiscardHandler)
	seal := func(tok *oauth2.Token) []byte {
		t.Helper()
		b, err := m.sealToken(tok, "google", "7")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	stored := &ExternalIdentity{Provider: "google", Subject: "7", Tokens: seal(&oauth2.Token{AccessToken: "a1", RefreshToken: "r1"})}
	for _, tc := range []struct {
		name        string
		fresh       *oauth2.Token
		wantRefresh string
	}{
		{"none sent", &oauth2.Token{AccessToken: "a2"}, "r1"},
		{"a new one", &oauth2.Token{AccessToken: "a3", RefreshToken: "r2"}, "r2"},
	} {
		x := &ExternalIdentity{Provider: "google", Subject: "7", Tokens: seal(tc.fresh)}
		m.keepRefreshToken(context.Background(), x, stored)
		got, err := m.openToken(x.Tokens, "google", "7")
		if err != nil || got.RefreshToken != tc.wantRefresh || got.AccessToken != tc.fresh.AccessToken {
			t.Errorf("%s: %+v, %v", tc.name, got, err)
		}
	}
}

// TestPictureClientPublicOnly: the default picture client connects to
// public addresses only, whatever the URL names.
func TestPictureClientPublicOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "2606:2800:21f:cb07:6820:80da:af6b:8b2c": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "192.168.0.1": false, "172.16.5.4": false,
		"169.254.169.254": false, "fe80::1": false, "fd00::1": false, "100.64.0.1": false,
		"0.0.0.0": false, "::": false, "224.0.0.1": false, "::ffff:127.0.0.1": false,
	} {
		if got := netguard.Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("netguard.Public(%s) = %v, want %v", addr, got, want)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
	}))
	defer srv.Close()
	m := oauthManager(t, nil)
	if _, _, err := m.fetchProviderPicture(context.Background(), srv.URL+"/p.png"); !errors.Is(err, netguard.ErrNotPublic) {
		t.Fatalf("a loopback picture URL: %v, want netguard.ErrNotPublic", err)
	}
	u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/p.png" // a name resolving to loopback
	if _, _, err := m.fetchProviderPicture(context.Background(), u); !errors.Is(err, netguard.ErrNotPublic) {
		t.Fatalf("a name resolving to loopback: %v, want netguard.ErrNotPublic", err)
	}
}

// TestProviderTokensSurviveKeyRotation: without OAuthTokenKey, a token
// sealed under one JWT secret still opens once it is a previous secret
// (found in review: provider tokens were lost at a rotation).
func TestProviderTokensSurviveKeyRotation(t *testing.T) {
	old := []byte("the-jwt-secret-before-rotation!!")
	before := oauthManager(t, func(c *Config) { c.JWTSecret = old })
	sealed, err := before.sealToken(&oauth2.Token{AccessToken: "acc", RefreshToken: "ref"}, "github", "42")
	if err != nil {
		t.Fatal(err)
	}
	after := oauthManager(t, func(c *Config) {
		c.JWTSecret, c.JWTPreviousSecrets = []byte("the-jwt-secret-after-rotation!!!"), [][]byte{old}
	})
	if tok, err := after.openToken(sealed, "github", "42"); err != nil || tok.RefreshToken != "ref" {
		t.Fatalf("after the rotation: %+v, %v", tok, err)
	}
	stranger := oauthManager(t, func(c *Config) { c.JWTSecret = []byte("an-unrelated-secret-of-32-bytes!") })
	if _, err := stranger.openToken(sealed, "github", "42"); err == nil {
		t.Fatal("a token opened under an unrelated key")
	}
}
