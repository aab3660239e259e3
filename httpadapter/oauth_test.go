package httpadapter_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/internal/oauthtest"
	"github.com/usermgmt/usermgmt/oauth"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// appURL is the only redirect target the OAuth tests allow.
const appURL = "https://app.example.com/after-login"

// oauthEnv is an env whose Manager has every built-in provider (and a
// generic OpenID Connect one, "okta"), each pointed at a fake.
type oauthEnv struct {
	*env
	fakes map[string]*oauthtest.Provider
	// binder is the link-ticket cookie of the last link URL asked for: the
	// browser of these tests holds it, as a real one would.
	binder string
}

// newOAuthEnv builds an oauthEnv over the store at dsn; mod, when not nil,
// changes the Config first.
func newOAuthEnv(t *testing.T, dsn string, mod func(*usermgmt.Config)) *oauthEnv {
	t.Helper()
	fakes := map[string]*oauthtest.Provider{
		"github": oauthtest.New(t, oauthtest.GitHub), "discord": oauthtest.New(t, oauthtest.Discord),
		"google": oauthtest.New(t, oauthtest.OIDC), "twitch": oauthtest.New(t, oauthtest.OIDC),
		"gitlab": oauthtest.New(t, oauthtest.OIDC), "microsoft": oauthtest.New(t, oauthtest.OIDC),
		"okta": oauthtest.New(t, oauthtest.OIDC),
	}
	rest := func(name string) oauth.Config {
		f := fakes[name]
		return oauth.Config{ClientID: oauthtest.ClientID, ClientSecret: oauthtest.ClientSecret,
			AuthURL: f.AuthURL(), TokenURL: f.TokenURL(), APIURL: f.URL()}
	}
	must := func(p *oauth.OIDC, err error) oauth.Provider {
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	providers := []oauth.Provider{
		oauth.GitHub(rest("github")), oauth.Discord(rest("discord")),
		must(oauth.Google(rest("google"))), must(oauth.Twitch(rest("twitch"))),
		must(oauth.GitLab(rest("gitlab"))), must(oauth.Microsoft(rest("microsoft"))),
		must(oauth.NewOIDC(oauth.OIDCConfig{Name: "okta", Issuer: fakes["okta"].URL(),
			ClientID: oauthtest.ClientID, ClientSecret: oauthtest.ClientSecret})),
	}

	st, err := anydb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clock := newFakeClock()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := usermgmt.Config{
		Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BaseURL: baseURL, BcryptCost: 4,
		Clock: clock.Now, Logger: logger,
		OAuthProviders: providers, OAuthRedirectAllowList: []string{appURL},
	}
	if mod != nil {
		mod(&cfg)
	}
	m, err := usermgmt.New(cfg, usermgmt.WithFeature(testFeatures()...))
	if err != nil {
		t.Fatalf("usermgmt.New: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	e := &env{t: t, m: m, h: httpadapter.New(m, httpadapter.Options{Logger: logger}), clock: clock, logs: logs}
	return &oauthEnv{env: e, fakes: fakes}
}

// eachOAuthBackend runs fn per backend, each with a fresh oauthEnv.
func eachOAuthBackend(t *testing.T, mod func(*usermgmt.Config), fn func(t *testing.T, e *oauthEnv)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newOAuthEnv(t, b.dsn(t), mod))
		})
	}
}

// started is a flow begun at GET /oauth/{provider}: where the browser is
// sent and the cookie it holds.
type started struct {
	provider, location, cookie string
}

// start begins a flow at path (GET /api/oauth/{provider}...).
func (e *oauthEnv) start(t *testing.T, provider, path string) started {
	t.Helper()
	q := request{method: "GET", path: path}
	if e.binder != "" && strings.Contains(path, "ticket=") {
		q.header = map[string]string{"Cookie": "usermgmt_oauth_link=" + e.binder}
	}
	r := e.do(q)
	r.wantStatus(t, http.StatusFound)
	var cookie string
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "usermgmt_oauth" {
			cookie = c.Value
			if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/api/oauth/" || c.MaxAge != 600 {
				t.Fatalf("flow cookie %+v", c)
			}
		}
	}
	if cookie == "" {
		t.Fatalf("no flow cookie in %v", r.header)
	}
	return started{provider: provider, location: r.header.Get("Location"), cookie: cookie}
}

// consent plays the user at the fake provider and returns the callback
// request the browser then makes (path and query, with the cookie).
func (e *oauthEnv) consent(t *testing.T, s started, id oauthtest.Identity) request {
	t.Helper()
	f := e.fakes[s.provider]
	f.SetIdentity(id)
	cb, err := f.Authorize(s.location)
	if err != nil {
		t.Fatalf("authorize at %s: %v", s.location, err)
	}
	want := baseURL + "/api/oauth/" + s.provider + "/callback?"
	if !strings.HasPrefix(cb, want) {
		t.Fatalf("callback %s, want under %s", cb, want)
	}
	return request{method: "GET", path: strings.TrimPrefix(cb, baseURL), header: map[string]string{"Cookie": "usermgmt_oauth=" + s.cookie}}
}

// login runs a whole login flow with the provider's account id.
func (e *oauthEnv) login(t *testing.T, provider string, id oauthtest.Identity) result {
	t.Helper()
	return e.do(e.consent(t, e.start(t, provider, "/api/oauth/"+provider), id))
}

// me returns GET /user/me as an object.
func (e *oauthEnv) me(t *testing.T, token string) map[string]any {
	t.Helper()
	r := e.do(request{method: "GET", path: "/api/user/me", token: token})
	r.wantStatus(t, http.StatusOK)
	return r.object(t)
}

// identity returns a verified account of the provider numbered n.
func identity(provider string, n int, email string) oauthtest.Identity {
	id := oauthtest.Identity{
		Subject: strings.Repeat("1", 3) + string(rune('0'+n)), Username: "The " + provider + " User" + string(rune('0'+n)),
		Name: "The User", Email: email, EmailVerified: true, Picture: "https://cdn.example.com/p.png",
	}
	if provider == "microsoft" {
		id.Claims = map[string]any{"tid": oauth.MicrosoftConsumerTenant}
	}
	return id
}

func TestOAuthNewAccountEveryProvider(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		for _, p := range []string{"github", "discord", "google", "twitch", "gitlab", "microsoft", "okta"} {
			t.Run(p, func(t *testing.T) {
				id := identity(p, 1, p+"@Example.org")
				tk := e.login(t, p, id).tokens(t)
				me := e.me(t, tk.AccessToken)
				wantName := "the_" + p + "_user1"
				if xs, ok := me["external_accounts"].([]any); !ok || len(xs) != 1 ||
					xs[0].(map[string]any)["provider"] != p || xs[0].(map[string]any)["external_account_id"] != id.Subject {
					t.Fatalf("external_accounts %v", me["external_accounts"])
				}
				if me["username"] != wantName || me["email"] != p+"@example.org" || me["email_verified"] != true ||
					me["is_external_only"] != true {
					t.Fatalf("new account %v", me)
				}
				// The same provider account logs into the same user.
				again := e.login(t, p, id).tokens(t)
				if e.whoami(again.AccessToken) != me["uuid"] {
					t.Fatal("second login reached another user")
				}
				xs, err := e.m.ExternalIdentities(context.Background(), me["uuid"].(string))
				if err != nil || len(xs) != 1 || xs[0].Provider != p || xs[0].Subject != id.Subject ||
					xs[0].PictureURL == "" || len(xs[0].Tokens) == 0 || strings.Contains(string(xs[0].Tokens), "access-") {
					t.Fatalf("identities %+v, %v", xs, err)
				}
				// An external-only account has no password to log in with.
				e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{
					"username": {wantName}, "password": {password}}}).wantError(t, 401, "invalid_credentials")
				// Its email is taken, like any other.
				e.do(request{method: "POST", path: "/api/auth/register", json: map[string]string{
					"username": p + "_squatter", "email": p + "@example.org", "password": password, "confirm_password": password,
				}}).wantError(t, 409, "email_taken")
			})
		}
	})
}

func TestOAuthEmailRules(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		ctx := context.Background()
		// A local account with a verified email: the provider account of the
		// same (verified) email is linked to it.
		u, err := e.m.CreateUser(ctx, usermgmt.NewUser{Username: "verified_jane", Email: "jane@example.com", Password: password, EmailVerified: true})
		if err != nil {
			t.Fatal(err)
		}
		tk := e.login(t, "google", identity("google", 1, "Jane@example.com")).tokens(t)
		if e.whoami(tk.AccessToken) != u.UUID {
			t.Fatal("login by verified email reached another user")
		}
		// GitHub: unverified and noreply addresses are skipped, the primary
		// verified one comes first.
		gh := identity("github", 2, "")
		gh.GitHubEmails = []oauthtest.GitHubEmail{
			{Email: "x@users.noreply.github.com", Primary: false, Verified: true},
			{Email: "unverified@example.com", Primary: false, Verified: false},
			{Email: "jane@example.com", Primary: true, Verified: true},
		}
		if got := e.whoami(e.login(t, "github", gh).tokens(t).AccessToken); got != u.UUID {
			t.Fatal("github login by primary verified email reached another user")
		}

		// A local account whose email is not verified is not linked.
		bob := e.register("unverified_bob")
		e.login(t, "discord", identity("discord", 1, bob.email)).wantError(t, 409, "link_email_not_verified")

		// A provider account without a verified email is refused.
		id := identity("twitch", 1, "nobody@example.com")
		id.EmailVerified = false
		e.login(t, "twitch", id).wantError(t, 401, "oauth_email_unverified")
		ms := identity("microsoft", 1, "work@example.com")
		ms.Claims = map[string]any{"tid": "11111111-2222-3333-4444-555555555555"}
		e.login(t, "microsoft", ms).wantError(t, 401, "oauth_email_unverified")
		gh = identity("github", 3, "")
		gh.GitHubEmails = []oauthtest.GitHubEmail{{Email: "a@users.noreply.github.com", Primary: true, Verified: true}}
		e.login(t, "github", gh).wantError(t, 401, "oauth_email_unverified")

		// A taken username gets a suffix.
		e.user("octocat_fan")
		oc := identity("gitlab", 5, "octo@example.com")
		oc.Username = "Octocat-Fan"
		me := e.me(t, e.login(t, "gitlab", oc).tokens(t).AccessToken)
		if name := me["username"].(string); !strings.HasPrefix(name, "octocat_fan_") || usermgmt.ValidateUsername(name) != nil {
			t.Fatalf("username %q", name)
		}
	})
}

func TestOAuthEmailLinkingOff(t *testing.T) {
	eachOAuthBackend(t, func(c *usermgmt.Config) { c.OAuthNoEmailLinking = true }, func(t *testing.T, e *oauthEnv) {
		if _, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: "verified_jane", Email: "jane@example.com", Password: password, EmailVerified: true}); err != nil {
			t.Fatal(err)
		}
		e.login(t, "google", identity("google", 1, "jane@example.com")).wantError(t, 409, "email_taken")
	})
}

// linkURL asks POST /oauth/{provider}/link for a link URL as acc.
func (e *oauthEnv) linkURL(t *testing.T, provider, token string, body map[string]string) string {
	t.Helper()
	if body == nil {
		body = map[string]string{}
	}
	r := e.do(request{method: "POST", path: "/api/oauth/" + provider + "/link", token: token, json: body})
	r.wantStatus(t, http.StatusOK)
	c := cookieOf(r.header, "usermgmt_oauth_link")
	if c == nil || c.Value == "" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/api/oauth/" || c.MaxAge <= 0 {
		t.Fatalf("link binder cookie %+v", c)
	}
	e.binder = c.Value
	u, _ := r.object(t)["url"].(string)
	if !strings.HasPrefix(u, baseURL+"/api/oauth/"+provider+"?ticket=") {
		t.Fatalf("link url %q", u)
	}
	return strings.TrimPrefix(u, baseURL)
}

func TestOAuthLinkAndUnlink(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		alice, bob := e.user("alice_link"), e.user("bob_link")
		gh := identity("github", 1, "alice.elsewhere@example.com")

		// Explicit link: the URL binds the flow to alice.
		path := e.linkURL(t, "github", alice.AccessToken, nil)
		r := e.do(e.consent(t, e.start(t, "github", path), gh))
		r.wantStatus(t, http.StatusOK)
		if obj := r.object(t); obj["provider"] != "github" || obj["user_uuid"] != alice.uuid || obj["external_account_id"] != gh.Subject {
			t.Fatalf("link answer %s", r.body)
		}
		// The ticket is single-use.
		e.do(request{method: "GET", path: path, header: map[string]string{"Cookie": "usermgmt_oauth_link=" + e.binder}}).wantError(t, 400, "invalid_oauth_state")
		// A link URL opened in another browser (without the binder of the
		// browser that asked for it) links nothing, and is spent.
		sent := e.linkURL(t, "github", alice.AccessToken, nil)
		e.do(request{method: "GET", path: sent}).wantError(t, 400, "invalid_oauth_state")
		e.do(request{method: "GET", path: sent, header: map[string]string{"Cookie": "usermgmt_oauth_link=" + e.binder}}).wantError(t, 400, "invalid_oauth_state")
		other := e.linkURL(t, "github", alice.AccessToken, nil)
		e.do(request{method: "GET", path: other, header: map[string]string{"Cookie": "usermgmt_oauth_link=" + strings.Repeat("A", 43)}}).wantError(t, 400, "invalid_oauth_state")
		// The linked account now logs alice in.
		if e.whoami(e.login(t, "github", gh).tokens(t).AccessToken) != alice.uuid {
			t.Fatal("linked account logged into another user")
		}

		// Already linked: to another user, and to the same one.
		e.do(e.consent(t, e.start(t, "github", e.linkURL(t, "github", bob.AccessToken, nil)), gh)).wantError(t, 409, "oauth_already_linked")
		e.do(e.consent(t, e.start(t, "github", e.linkURL(t, "github", alice.AccessToken, nil)), gh)).wantError(t, 409, "oauth_already_linked")
		// A second account of the same provider for alice.
		e.do(e.consent(t, e.start(t, "github", e.linkURL(t, "github", alice.AccessToken, nil)), identity("github", 2, "x@example.com"))).
			wantError(t, 409, "oauth_already_linked")

		// A link flow with a redirect ends there, with no token.
		path = e.linkURL(t, "google", alice.AccessToken, map[string]string{"redirect_uri": appURL})
		r = e.do(e.consent(t, e.start(t, "google", path), identity("google", 1, "alice.google@example.com")))
		r.wantStatus(t, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != appURL+"#linked=google" {
			t.Fatalf("Location %q", loc)
		}
		e.do(request{method: "POST", path: "/api/oauth/google/link", token: alice.AccessToken,
			json: map[string]string{"redirect_uri": "https://evil.example.net/"}}).wantError(t, 400, "redirect_not_allowed")

		// Unlink: alice has a password, so both links can go; then none is left.
		e.do(request{method: "POST", path: "/api/oauth/github/unlink", token: alice.AccessToken}).wantStatus(t, http.StatusOK)
		e.do(request{method: "POST", path: "/api/oauth/google/revoke", token: alice.AccessToken}).wantStatus(t, http.StatusOK)
		e.do(request{method: "POST", path: "/api/oauth/github/unlink", token: alice.AccessToken}).wantError(t, 400, "oauth_not_linked")
		e.do(request{method: "POST", path: "/api/oauth/nope/link", token: alice.AccessToken, json: map[string]string{}}).wantError(t, 404, "unsupported_provider")

		// An external-only account keeps its last way to log in ...
		ext := e.login(t, "discord", identity("discord", 7, "ext@example.com")).tokens(t)
		e.do(request{method: "POST", path: "/api/oauth/discord/unlink", token: ext.AccessToken}).wantError(t, 409, "last_login_method")
		// ... until it has another one.
		e.do(e.consent(t, e.start(t, "okta", e.linkURL(t, "okta", ext.AccessToken, nil)), identity("okta", 7, "ext2@example.com"))).wantStatus(t, http.StatusOK)
		e.do(request{method: "POST", path: "/api/oauth/discord/unlink", token: ext.AccessToken}).wantStatus(t, http.StatusOK)
		e.do(request{method: "POST", path: "/api/oauth/okta/unlink", token: ext.AccessToken}).wantError(t, 409, "last_login_method")
	})
}

func TestOAuthStateAndRedirect(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		id := identity("okta", 1, "state@example.com")

		// Replay: the same callback a second time.
		cb := e.consent(t, e.start(t, "okta", "/api/oauth/okta"), id)
		e.do(cb).tokens(t)
		e.do(cb).wantError(t, 400, "invalid_oauth_state")

		// Another browser (no cookie, or another cookie) cannot finish it.
		s := e.start(t, "okta", "/api/oauth/okta")
		other := e.start(t, "okta", "/api/oauth/okta")
		cb = e.consent(t, s, id)
		noCookie := cb
		noCookie.header = nil
		e.do(noCookie).wantError(t, 400, "invalid_oauth_state")
		cb.header = map[string]string{"Cookie": "usermgmt_oauth=" + other.cookie}
		e.do(cb).wantError(t, 400, "invalid_oauth_state")
		// The attempt spent it.
		cb.header = map[string]string{"Cookie": "usermgmt_oauth=" + s.cookie}
		e.do(cb).wantError(t, 400, "invalid_oauth_state")

		// A state that was never issued, or is malformed.
		s = e.start(t, "okta", "/api/oauth/okta")
		for _, state := range []string{"", "forged", strings.Repeat("A", 43), "%00"} {
			e.do(request{method: "GET", path: "/api/oauth/okta/callback?code=x&state=" + state,
				header: map[string]string{"Cookie": "usermgmt_oauth=" + s.cookie}}).wantError(t, 400, "invalid_oauth_state")
		}
		// A state of another provider.
		cb = e.consent(t, e.start(t, "okta", "/api/oauth/okta"), id)
		cb.path = strings.Replace(cb.path, "/okta/", "/gitlab/", 1)
		e.do(cb).wantError(t, 400, "invalid_oauth_state")
		// An expired flow.
		cb = e.consent(t, e.start(t, "okta", "/api/oauth/okta"), id)
		e.clock.Advance(11 * time.Minute)
		e.do(cb).wantError(t, 400, "invalid_oauth_state")
		// The user declined at the provider.
		s = e.start(t, "okta", "/api/oauth/okta")
		state := mustQuery(t, s.location).Get("state")
		e.do(request{method: "GET", path: "/api/oauth/okta/callback?error=access_denied&state=" + state,
			header: map[string]string{"Cookie": "usermgmt_oauth=" + s.cookie}}).wantError(t, 401, "oauth_failed")
		// A forged code.
		cb = e.consent(t, e.start(t, "okta", "/api/oauth/okta"), id)
		q := mustQuery(t, baseURL+cb.path)
		q.Set("code", "code-999999")
		cb.path = "/api/oauth/okta/callback?" + q.Encode()
		e.do(cb).wantError(t, 401, "oauth_failed")

		// Unknown provider.
		e.do(request{method: "GET", path: "/api/oauth/myspace"}).wantError(t, 404, "unsupported_provider")

		// Redirect targets outside the allow-list.
		for _, target := range []string{"https://evil.example.net/", "https://app.example.com.evil.net/after-login",
			"http://app.example.com/after-login", "https://app.example.com/other", "https://app.example.com/after-login/../x",
			"https://user@app.example.com/after-login", "//evil.example.net", "javascript:alert(1)", "/relative"} {
			e.do(request{method: "GET", path: "/api/oauth/okta?redirect_uri=" + url.QueryEscape(target)}).wantError(t, 400, "redirect_not_allowed")
		}

		// An allowed target gets the tokens in the fragment, never a query.
		s = e.start(t, "okta", "/api/oauth/okta?redirect_uri="+url.QueryEscape(appURL+"/done?x=1"))
		r := e.do(e.consent(t, s, id))
		r.wantStatus(t, http.StatusSeeOther)
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != appURL+"/done" || loc.RawQuery != "x=1" {
			t.Fatalf("Location %q", r.header.Get("Location"))
		}
		frag, err := url.ParseQuery(loc.Fragment)
		if err != nil || frag.Get("token_type") != "bearer" || frag.Get("refresh_token") == "" {
			t.Fatalf("fragment %q", loc.Fragment)
		}
		e.whoami(frag.Get("access_token"))
		if logs := e.logs.String(); strings.Contains(logs, frag.Get("access_token")) || strings.Contains(logs, frag.Get("refresh_token")) ||
			strings.Contains(logs, s.cookie) {
			t.Fatal("a token or the flow cookie reached the logs")
		}
	})
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestOAuthProviderTokenRefresh(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		ctx := context.Background()
		for _, p := range []string{"github", "google"} {
			f := e.fakes[p]
			// Tokens that expire within oauth2's 10 s margin are refreshed at
			// once.
			f.ExpiresIn = 5
			uuid := e.whoami(e.login(t, p, identity(p, 3, p+"-refresh@example.com")).tokens(t).AccessToken)
			before := f.Refreshes()
			tok, err := e.m.ProviderToken(ctx, uuid, p)
			if err != nil {
				t.Fatalf("%s: ProviderToken: %v", p, err)
			}
			if f.Refreshes() != before+1 || tok.AccessToken == "" || tok.RefreshToken == "" {
				t.Fatalf("%s: refreshes %d -> %d, token %+v", p, before, f.Refreshes(), tok)
			}
			// The refreshed token was stored: the next refresh uses its
			// refresh token (the fake accepts each refresh token once).
			tok2, err := e.m.ProviderToken(ctx, uuid, p)
			if err != nil || tok2.AccessToken == tok.AccessToken || f.Refreshes() != before+2 {
				t.Fatalf("%s: second ProviderToken %+v, %v", p, tok2, err)
			}
			// A fresh token is returned as stored.
			f.ExpiresIn = 3600
			tok3, err := e.m.ProviderToken(ctx, uuid, p)
			if err != nil {
				t.Fatal(err)
			}
			tok4, err := e.m.ProviderToken(ctx, uuid, p)
			if err != nil || tok4.AccessToken != tok3.AccessToken || f.Refreshes() != before+3 {
				t.Fatalf("%s: unexpired token was refreshed: %+v %+v", p, tok3, tok4)
			}
		}
		if _, err := e.m.ProviderToken(ctx, e.user("no_links").uuid, "github"); err == nil {
			t.Fatal("ProviderToken without a link succeeded")
		}
	})
}

func TestOAuthParallelFirstLogins(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		id := identity("gitlab", 4, "twice@example.com")
		const n = 4
		cbs := make([]request, n)
		for i := range cbs {
			cbs[i] = e.consent(t, e.start(t, "gitlab", "/api/oauth/gitlab"), id)
		}
		results := make(chan result, n)
		for _, cb := range cbs {
			r := cb.build(t)
			go func() { results <- serve(t, e.h, r) }()
		}
		users := map[string]bool{}
		for range n {
			r := <-results
			users[e.whoami(r.tokens(t).AccessToken)] = true
		}
		if len(users) != 1 {
			t.Fatalf("parallel first logins made %d users", len(users))
		}
	})
}
