// Package oauth is third-party login over OAuth 2.0 and OpenID Connect: a
// Provider interface on golang.org/x/oauth2, the built-in providers (GitHub,
// Google, Discord, Twitch, GitLab, Microsoft and any OpenID Connect issuer),
// and the mapping of each provider's profile onto one shape, Profile.
//
// The package is a leaf: it knows nothing of users or sessions. A flow is
//
//	url, err := oauth.AuthCodeURL(ctx, p, callbackURL, state, verifier, nonce)
//	// ... the browser comes back to callbackURL with code and state ...
//	tok, profile, err := oauth.Exchange(ctx, p, callbackURL, code, verifier, nonce)
//
// where state, the PKCE verifier (oauth2.GenerateVerifier) and the nonce are
// the caller's, kept between the two steps and bound to the browser.
//
// HTTP requests go through the *http.Client stored in the context under
// oauth2.HTTPClient, or http.DefaultClient; every endpoint is configurable,
// so tests can point a provider at a local server.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
)

// Profile is a provider's account mapped onto one shape.
type Profile struct {
	// Provider is the provider's Name.
	Provider string
	// ID is the provider's stable identifier of the account (GitHub's
	// numeric id, an OpenID Connect "sub").
	ID string
	// Username is the provider's handle, as the provider spells it.
	Username string
	// DisplayName is the provider's display name (Username when it has
	// none).
	DisplayName string
	// Emails are the addresses the provider says the account owns and has
	// verified, the primary first. Unverified addresses never appear.
	Emails []string
	// PictureURL is the account's picture, "" when it has none.
	PictureURL string
}

// Provider is one third-party login service.
type Provider interface {
	// Name is the provider's key in URLs and storage ("github", ...):
	// lower-case ASCII letters, digits, '-' and '_'.
	Name() string
	// OAuth2 returns the client configuration for callbackURL. An OpenID
	// Connect provider may fetch its discovery document first.
	OAuth2(ctx context.Context, callbackURL string) (*oauth2.Config, error)
	// AuthParams returns the provider's extra authorization parameters;
	// nonce is the OpenID Connect nonce (ignored by plain OAuth 2.0
	// providers).
	AuthParams(nonce string) []oauth2.AuthCodeOption
	// Profile reads the account behind tok. An OpenID Connect provider
	// verifies tok's ID token, nonce included.
	Profile(ctx context.Context, tok *oauth2.Token, nonce string) (*Profile, error)
}

// Errors of the flows. Match them with errors.Is.
var (
	// ErrExchange is a failed code exchange: a bad, expired or replayed
	// code, a wrong PKCE verifier, or an unreachable provider.
	ErrExchange = errors.New("oauth: code exchange failed")
	// ErrProfile is a profile the provider did not give or gave malformed.
	ErrProfile = errors.New("oauth: unable to fetch user information")
	// ErrIDToken is an ID token that does not verify (signature, issuer,
	// audience, expiry, nonce).
	ErrIDToken = errors.New("oauth: invalid ID token")
	// ErrNoVerifiedEmail is an account with no verified email address.
	ErrNoVerifiedEmail = errors.New("oauth: no verified email address")
	// ErrDiscovery is an OpenID Connect discovery document or key set that
	// cannot be fetched or is invalid.
	ErrDiscovery = errors.New("oauth: discovery failed")
	// ErrIssuer is an authorization response whose iss parameter (RFC
	// 9207) names another issuer than the provider's, or lacks one the
	// provider promised: a mix-up of providers, or an attack on one.
	ErrIssuer = errors.New("oauth: authorization response from another issuer")
)

// Issuer is implemented by providers that know their issuer identifier
// (RFC 8414), against which CheckIssuer checks the iss parameter of an
// authorization response. The OpenID Connect providers implement it.
type Issuer interface {
	// Issuer returns the issuer identifier ("" for none known) and whether
	// the provider puts it in every authorization response.
	Issuer(ctx context.Context) (issuer string, always bool, err error)
}

// CheckIssuer checks the iss parameter of an authorization response (RFC
// 9207, section 2.4): when the provider sent one, it must be the
// provider's issuer, compared exactly; when the provider promises one
// (its metadata's authorization_response_iss_parameter_supported), it must
// be there. A provider with no known issuer (a plain OAuth 2.0 provider
// without Config.Issuer) passes any iss, which it cannot check. A
// Microsoft multi-tenant template issuer ("{tenantid}") accepts one tenant
// in its place.
func CheckIssuer(ctx context.Context, p Provider, iss string) error {
	ip, ok := p.(Issuer)
	if !ok {
		return nil
	}
	want, always, err := ip.Issuer(ctx)
	switch {
	case err != nil:
		return err
	case want == "":
		return nil
	case iss == "" && always:
		return fmt.Errorf("%w: %s promises an iss parameter and sent none", ErrIssuer, p.Name())
	case iss == "" || iss == want:
		return nil
	}
	if pre, suf, ok := strings.Cut(want, "{tenantid}"); ok && len(iss) > len(pre)+len(suf) &&
		strings.HasPrefix(iss, pre) && strings.HasSuffix(iss, suf) && !strings.Contains(iss[len(pre):len(iss)-len(suf)], "/") {
		return nil
	}
	return fmt.Errorf("%w: iss %q, want %q", ErrIssuer, iss, want)
}

// AuthCodeURL returns the URL that sends the browser to p's consent page,
// carrying state, the S256 PKCE challenge of verifier and (for OpenID
// Connect) nonce.
func AuthCodeURL(ctx context.Context, p Provider, callbackURL, state, verifier, nonce string) (string, error) {
	cfg, err := p.OAuth2(ctx, callbackURL)
	if err != nil {
		return "", err
	}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}, p.AuthParams(nonce)...)
	return cfg.AuthCodeURL(state, opts...), nil
}

// Exchange trades an authorization code (with its PKCE verifier) for
// tokens and reads the account behind them. Every failure is one of the
// package's errors, wrapping the cause.
func Exchange(ctx context.Context, p Provider, callbackURL, code, verifier, nonce string) (*oauth2.Token, *Profile, error) {
	cfg, err := p.OAuth2(ctx, callbackURL)
	if err != nil {
		return nil, nil, err
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrExchange, err)
	}
	prof, err := p.Profile(ctx, tok, nonce)
	if err != nil {
		return nil, nil, err
	}
	prof.Provider = p.Name()
	if prof.DisplayName == "" {
		prof.DisplayName = prof.Username
	}
	return tok, prof, nil
}

// TokenSource returns a source of p's tokens starting from tok, which
// refreshes it (with its refresh token) when it has expired.
func TokenSource(ctx context.Context, p Provider, tok *oauth2.Token) (oauth2.TokenSource, error) {
	cfg, err := p.OAuth2(ctx, "")
	if err != nil {
		return nil, err
	}
	return cfg.TokenSource(ctx, tok), nil
}

// maxBody bounds every document read from a provider.
const maxBody = 1 << 20

// httpClient returns the client stored in ctx under oauth2.HTTPClient, or
// http.DefaultClient.
func httpClient(ctx context.Context) *http.Client {
	if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok && c != nil {
		return c
	}
	return http.DefaultClient
}

// getJSON fetches url with client (and tok as a bearer, when not nil) and
// decodes the JSON answer into v. fail is the error returned on failure.
func getJSON(ctx context.Context, client *http.Client, url string, tok *oauth2.Token, v any, fail error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", fail, err)
	}
	req.Header.Set("Accept", "application/json")
	if tok != nil {
		tok.SetAuthHeader(req)
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", fail, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", fail, url, err)
	}
	if len(body) > maxBody {
		return fmt.Errorf("%w: %s: answer too large", fail, url)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s: status %d", fail, url, res.StatusCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s: %w", fail, url, err)
	}
	return nil
}

// apiClient returns an HTTP client that sends tok, over the context's
// client.
func apiClient(ctx context.Context, tok *oauth2.Token) *http.Client {
	return oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok))
}

// or returns the first non-empty string.
func or(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// ValidName reports whether name can name a provider: 1 to 32 lower-case
// ASCII letters, digits, '-' and '_'.
func ValidName(name string) bool {
	if name == "" || len(name) > 32 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// endpointOr returns base with its trailing slash removed, or def when base
// is empty.
func endpointOr(base, def string) string {
	if base == "" {
		return def
	}
	return strings.TrimRight(base, "/")
}
