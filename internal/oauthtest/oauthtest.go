// Package oauthtest runs local HTTP servers that answer like the OAuth
// providers the oauth package supports: GitHub's and Discord's REST APIs,
// and OpenID Connect issuers (discovery, JWKS, RS256-signed ID tokens,
// userinfo). Tests drive a whole authorization-code flow against them.
package oauthtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Kind is the API a fake provider answers with.
type Kind int

// The kinds of fake providers.
const (
	GitHub Kind = iota
	Discord
	OIDC
)

// Identity is the account that logs in at the fake provider.
type Identity struct {
	Subject       string
	Username      string
	Name          string
	Email         string
	EmailVerified bool
	Picture       string
	// GitHubEmails, for GitHub, replace the one Email in the emails API.
	GitHubEmails []GitHubEmail
	// Claims are extra ID token claims (OIDC), such as "tid".
	Claims map[string]any
}

// GitHubEmail is one entry of GitHub's emails API.
type GitHubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// ClientID and ClientSecret are the credentials every fake expects.
const (
	ClientID     = "test-client"
	ClientSecret = "test-secret"
)

// grant is an authorization the fake handed out a code for.
type grant struct {
	id          Identity
	challenge   string
	redirectURI string
	nonce       string
}

// Provider is one fake provider.
type Provider struct {
	Kind   Kind
	Server *httptest.Server
	// ExpiresIn is the lifetime of the access tokens issued, in seconds.
	ExpiresIn int
	// SendIss makes an OIDC fake put its issuer in every authorization
	// response (RFC 9207) and say so in its discovery document.
	SendIss bool
	// AuthMethods are the token endpoint's client authentication methods
	// the discovery document lists (default client_secret_basic and
	// client_secret_post); the token endpoint accepts only those.
	AuthMethods []string

	key *rsa.PrivateKey
	kid string

	mu        sync.Mutex
	next      Identity
	codes     map[string]grant
	access    map[string]Identity
	refresh   map[string]Identity
	refreshes int
	exchanges int
	seq       int
}

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err) // the test binary cannot go on without randomness
	}
	return k
})

// Key is the private key every fake signs ID tokens with (kid
// "test-key").
func Key() *rsa.PrivateKey { return rsaKey() }

// New starts a fake provider of the given kind, closed when t ends.
func New(t testing.TB, kind Kind) *Provider {
	t.Helper()
	p := &Provider{
		Kind: kind, ExpiresIn: 3600, key: rsaKey(), kid: "test-key",
		codes: map[string]grant{}, access: map[string]Identity{}, refresh: map[string]Identity{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	mux.HandleFunc("GET /user", p.githubUser)
	mux.HandleFunc("GET /user/emails", p.githubEmails)
	mux.HandleFunc("GET /users/@me", p.discordUser)
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Server.Close)
	return p
}

// URL is the fake's base URL: the issuer of an OIDC fake, the API base of
// the others.
func (p *Provider) URL() string { return p.Server.URL }

// AuthURL is the fake's authorization endpoint (see Authorize).
func (p *Provider) AuthURL() string { return p.Server.URL + "/authorize" }

// TokenURL is the fake's token endpoint.
func (p *Provider) TokenURL() string { return p.Server.URL + "/token" }

// SetIdentity sets the account of the next authorizations.
func (p *Provider) SetIdentity(id Identity) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next = id
}

// Refreshes returns how many refresh-token grants the fake answered.
func (p *Provider) Refreshes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refreshes
}

// Exchanges returns how many authorization-code grants the fake was
// asked for, refused ones included.
func (p *Provider) Exchanges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchanges
}

// Authorize plays the user consenting at authURL (which must point at this
// fake): it checks the request like the provider would and returns the
// callback URL the browser is sent to, with code and state.
func (p *Provider) Authorize(authURL string) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", err
	}
	if u.Scheme+"://"+u.Host+u.Path != p.AuthURL() {
		return "", fmt.Errorf("authorization URL %s is not this fake's %s", authURL, p.AuthURL())
	}
	q := u.Query()
	switch {
	case q.Get("response_type") != "code":
		return "", fmt.Errorf("response_type %q", q.Get("response_type"))
	case q.Get("client_id") != ClientID:
		return "", fmt.Errorf("client_id %q", q.Get("client_id"))
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		return "", fmt.Errorf("no S256 PKCE challenge")
	case q.Get("state") == "":
		return "", fmt.Errorf("no state")
	case q.Get("redirect_uri") == "":
		return "", fmt.Errorf("no redirect_uri")
	case p.Kind == OIDC && q.Get("nonce") == "":
		return "", fmt.Errorf("no nonce")
	}
	p.mu.Lock()
	p.seq++
	code := fmt.Sprintf("code-%d", p.seq)
	p.codes[code] = grant{id: p.next, challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri"), nonce: q.Get("nonce")}
	p.mu.Unlock()
	cb, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		return "", err
	}
	cq := cb.Query()
	cq.Set("code", code)
	cq.Set("state", q.Get("state"))
	if p.Kind == OIDC && p.SendIss {
		cq.Set("iss", p.URL())
	}
	cb.RawQuery = cq.Encode()
	return cb.String(), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	if p.Kind != OIDC {
		http.NotFound(w, nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": p.URL(), "authorization_endpoint": p.AuthURL(), "token_endpoint": p.TokenURL(),
		"userinfo_endpoint": p.URL() + "/userinfo", "jwks_uri": p.URL() + "/jwks",
		"token_endpoint_auth_methods_supported":          p.authMethods(),
		"authorization_response_iss_parameter_supported": p.SendIss,
	})
}

// authMethods are the client authentication methods the token endpoint
// accepts.
func (p *Provider) authMethods() []string {
	if p.AuthMethods != nil {
		return p.AuthMethods
	}
	return []string{"client_secret_basic", "client_secret_post"}
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": p.kid, "use": "sig", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// clientOK checks the client's credentials, in the Basic header or the
// body, by a method the fake accepts.
func (p *Provider) clientOK(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	method := "client_secret_basic"
	if !ok {
		id, secret, method = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), "client_secret_post"
	}
	if p.Kind == OIDC && !slices.Contains(p.authMethods(), method) {
		return false
	}
	return id == ClientID && secret == ClientSecret
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	err := r.ParseForm()
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.PostForm.Get("grant_type") == "authorization_code" {
		p.exchanges++
	}
	if err != nil || !p.clientOK(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	var (
		id    Identity
		nonce string
	)
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g, ok := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code")) // single-use
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || g.redirectURI != r.PostForm.Get("redirect_uri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		id, nonce = g.id, g.nonce
	case "refresh_token":
		var ok bool
		if id, ok = p.refresh[r.PostForm.Get("refresh_token")]; !ok {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		delete(p.refresh, r.PostForm.Get("refresh_token"))
		p.refreshes++
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	p.seq++
	access, refresh := fmt.Sprintf("access-%d", p.seq), fmt.Sprintf("refresh-%d", p.seq)
	p.access[access], p.refresh[refresh] = id, id
	ans := map[string]any{"access_token": access, "token_type": "bearer", "expires_in": p.ExpiresIn, "refresh_token": refresh}
	if p.Kind == OIDC && nonce != "" {
		idt, err := p.SignIDToken(id, nonce, time.Now())
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		ans["id_token"] = idt
	}
	writeJSON(w, http.StatusOK, ans)
}

// SignIDToken signs an ID token for id with the fake's key.
func (p *Provider) SignIDToken(id Identity, nonce string, now time.Time) (string, error) {
	c := jwt.MapClaims{
		"iss": p.URL(), "aud": ClientID, "sub": id.Subject, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"email": id.Email, "email_verified": id.EmailVerified,
		"preferred_username": id.Username, "name": id.Name,
	}
	for k, v := range id.Claims {
		c[k] = v
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = p.kid
	return t.SignedString(p.key)
}

// caller returns the identity behind the request's bearer token.
func (p *Provider) caller(r *http.Request) (Identity, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return Identity{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.access[tok]
	return id, ok
}

func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	id, ok := p.caller(r)
	if !ok || p.Kind != OIDC {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sub": id.Subject, "picture": id.Picture, "preferred_username": id.Username})
}

func (p *Provider) githubUser(w http.ResponseWriter, r *http.Request) {
	id, ok := p.caller(r)
	if !ok || p.Kind != GitHub {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	n, _ := strconv.ParseInt(id.Subject, 10, 64)
	writeJSON(w, http.StatusOK, map[string]any{"id": n, "login": id.Username, "name": id.Name, "avatar_url": id.Picture})
}

func (p *Provider) githubEmails(w http.ResponseWriter, r *http.Request) {
	id, ok := p.caller(r)
	if !ok || p.Kind != GitHub {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	emails := id.GitHubEmails
	if emails == nil {
		emails = []GitHubEmail{{Email: id.Email, Primary: true, Verified: id.EmailVerified}}
	}
	writeJSON(w, http.StatusOK, emails)
}

func (p *Provider) discordUser(w http.ResponseWriter, r *http.Request) {
	id, ok := p.caller(r)
	if !ok || p.Kind != Discord {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401: Unauthorized"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id.Subject, "username": id.Username, "global_name": id.Name, "avatar": id.Picture,
		"email": id.Email, "verified": id.EmailVerified,
	})
}
