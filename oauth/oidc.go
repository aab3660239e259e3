package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// OIDCConfig configures an OpenID Connect provider.
type OIDCConfig struct {
	// Name is the provider's key ("google", "okta", ...); see ValidName.
	Name string
	// Issuer is the issuer URL; its discovery document is
	// Issuer + "/.well-known/openid-configuration", and it must name the
	// same issuer.
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes replace the default "openid profile email" when not nil.
	Scopes []string
	// AuthParams are extra authorization parameters.
	AuthParams map[string]string
	// AuthStyle is how the client authenticates at the token endpoint.
	// Default: the Authorization header (client_secret_basic), or the
	// request body when the discovery document offers only
	// client_secret_post; never auto-detection, which retries a refused
	// exchange with the same, spent code.
	AuthStyle oauth2.AuthStyle
	// Clock is the time ID tokens are checked against. Default time.Now.
	Clock func() time.Time

	// emailVerified, when set, decides whether the merged claims' email is
	// verified (Microsoft's tokens carry no email_verified claim).
	emailVerified func(claims map[string]any) bool
}

// Discovery is the part of an OpenID Connect discovery document the
// package uses.
type Discovery struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	// TokenEndpointAuthMethods are the ways a client may authenticate at
	// the token endpoint; empty means client_secret_basic (OpenID Connect
	// Discovery 1.0, section 3).
	TokenEndpointAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	// IssParameter reports that the authorization server puts its issuer
	// in every authorization response (RFC 9207), so that a response
	// without one is refused.
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`
}

// OIDC is a generic OpenID Connect provider. Its discovery document is
// fetched at first use (and again after a failure); its signing keys when
// an ID token names a key not yet known, at most once a minute.
type OIDC struct {
	cfg OIDCConfig

	mu        sync.Mutex
	doc       *Discovery
	keys      *KeySet
	keysFetch time.Time
}

// NewOIDC returns the provider cfg describes. It fetches nothing yet.
func NewOIDC(cfg OIDCConfig) (*OIDC, error) {
	if !ValidName(cfg.Name) {
		return nil, fmt.Errorf("oauth: invalid provider name %q", cfg.Name)
	}
	if !strings.HasPrefix(cfg.Issuer, "https://") && !strings.HasPrefix(cfg.Issuer, "http://") {
		return nil, fmt.Errorf("oauth: %s: issuer %q is not an http(s) URL", cfg.Name, cfg.Issuer)
	}
	if cfg.ClientID == "" {
		return nil, fmt.Errorf("oauth: %s: client ID is required", cfg.Name)
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"openid", "profile", "email"}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	return &OIDC{cfg: cfg}, nil
}

// Name implements Provider.
func (o *OIDC) Name() string { return o.cfg.Name }

// Discover returns the provider's discovery document, fetching it once.
func (o *OIDC) Discover(ctx context.Context) (*Discovery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.doc != nil {
		return o.doc, nil
	}
	var d Discovery
	if err := getJSON(ctx, httpClient(ctx), o.cfg.Issuer+"/.well-known/openid-configuration", nil, &d, ErrDiscovery); err != nil {
		return nil, err
	}
	// Microsoft's multi-tenant documents name a template issuer, checked
	// against each token's tenant.
	if strings.TrimRight(d.Issuer, "/") != o.cfg.Issuer && !strings.Contains(d.Issuer, "{tenantid}") {
		return nil, fmt.Errorf("%w: %s names issuer %q", ErrDiscovery, o.cfg.Issuer, d.Issuer)
	}
	if d.AuthorizationEndpoint == "" || d.TokenEndpoint == "" || d.JWKSURI == "" {
		return nil, fmt.Errorf("%w: %s: endpoints missing", ErrDiscovery, o.cfg.Issuer)
	}
	o.doc = &d
	return o.doc, nil
}

// OAuth2 implements Provider.
func (o *OIDC) OAuth2(ctx context.Context, callbackURL string) (*oauth2.Config, error) {
	d, err := o.Discover(ctx)
	if err != nil {
		return nil, err
	}
	style := o.cfg.AuthStyle
	if style == oauth2.AuthStyleAutoDetect {
		style = authStyleOf(d.TokenEndpointAuthMethods)
	}
	return &oauth2.Config{
		ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: callbackURL,
		Scopes: append([]string(nil), o.cfg.Scopes...),
		Endpoint: oauth2.Endpoint{
			AuthURL: d.AuthorizationEndpoint, TokenURL: d.TokenEndpoint, AuthStyle: style,
		},
	}, nil
}

// authStyleOf picks how to send the client's credentials from the methods
// the discovery document lists: the Authorization header unless only
// client_secret_post is offered. Never auto-detection, whose second try
// would present an authorization code the first try already spent (a
// provider may then revoke what that code issued, RFC 6749 section 4.1.2).
func authStyleOf(methods []string) oauth2.AuthStyle {
	if len(methods) == 0 || slices.Contains(methods, "client_secret_basic") || !slices.Contains(methods, "client_secret_post") {
		return oauth2.AuthStyleInHeader
	}
	return oauth2.AuthStyleInParams
}

// Issuer implements Issuer: the issuer the discovery document names (a
// Microsoft multi-tenant template, "{tenantid}" included, as it is) and
// whether it sends it in authorization responses.
func (o *OIDC) Issuer(ctx context.Context) (string, bool, error) {
	d, err := o.Discover(ctx)
	if err != nil {
		return "", false, err
	}
	return d.Issuer, d.IssParameter, nil
}

// AuthParams implements Provider: the nonce and the configured parameters.
func (o *OIDC) AuthParams(nonce string) []oauth2.AuthCodeOption {
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", nonce)}
	for k, v := range o.cfg.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return opts
}

// Profile implements Provider: it verifies tok's ID token (RS256,
// issuer, audience, expiry, nonce), merges the userinfo endpoint's claims
// for the same subject, and maps the standard claims.
func (o *OIDC) Profile(ctx context.Context, tok *oauth2.Token, nonce string) (*Profile, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: the token answer has no id_token", ErrIDToken)
	}
	claims, err := o.VerifyIDToken(ctx, raw, nonce)
	if err != nil {
		return nil, err
	}
	sub, _ := claims["sub"].(string)
	if d, _ := o.Discover(ctx); d != nil && d.UserinfoEndpoint != "" {
		var info map[string]any
		if err := getJSON(ctx, httpClient(ctx), d.UserinfoEndpoint, tok, &info, ErrProfile); err != nil {
			return nil, err
		}
		if s, _ := info["sub"].(string); s != sub {
			return nil, fmt.Errorf("%w: userinfo names another subject", ErrProfile)
		}
		for k, v := range info {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	return o.mapClaims(claims), nil
}

// mapClaims maps standard claims onto a Profile.
func (o *OIDC) mapClaims(c map[string]any) *Profile {
	str := func(k string) string { s, _ := c[k].(string); return s }
	email := str("email")
	p := &Profile{
		ID:         str("sub"),
		Username:   or(str("preferred_username"), str("nickname"), str("name"), strings.SplitN(email, "@", 2)[0]),
		PictureURL: str("picture"),
	}
	p.DisplayName = or(str("name"), p.Username)
	verified := claimTrue(c["email_verified"])
	if o.cfg.emailVerified != nil {
		verified = o.cfg.emailVerified(c)
	}
	if email != "" && verified {
		p.Emails = []string{email}
	}
	return p
}

// claimTrue reads a boolean claim, which some providers send as a string.
func claimTrue(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

// idTokenLeeway is the clock skew tolerated on ID token times.
const idTokenLeeway = time.Minute

// VerifyIDToken checks an ID token and returns its claims: an RS256
// signature by one of the issuer's keys, the issuer, this client in the
// audience (and as azp when there are several), expiry and issue time, and
// the nonce.
func (o *OIDC) VerifyIDToken(ctx context.Context, raw, nonce string) (map[string]any, error) {
	d, err := o.Discover(ctx)
	if err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithAudience(o.cfg.ClientID),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(idTokenLeeway),
		jwt.WithTimeFunc(o.cfg.Clock),
	)
	_, err = parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return o.key(ctx, d, kid)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	iss, _ := claims["iss"].(string)
	want := d.Issuer
	if strings.Contains(want, "{tenantid}") {
		tid, _ := claims["tid"].(string)
		want = strings.ReplaceAll(want, "{tenantid}", tid)
	}
	if iss == "" || iss != want {
		return nil, fmt.Errorf("%w: issuer %q, want %q", ErrIDToken, iss, want)
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return nil, fmt.Errorf("%w: no subject", ErrIDToken)
	}
	if aud, _ := claims.GetAudience(); len(aud) > 1 {
		if azp, _ := claims["azp"].(string); azp != o.cfg.ClientID {
			return nil, fmt.Errorf("%w: several audiences and azp %q", ErrIDToken, azp)
		}
	}
	got, _ := claims["nonce"].(string)
	if nonce == "" || subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return nil, fmt.Errorf("%w: nonce mismatch", ErrIDToken)
	}
	return claims, nil
}

// jwksRefetch is how often an unknown key ID may trigger a new fetch of
// the key set.
const jwksRefetch = time.Minute

// key returns the issuer's verification key kid, fetching the key set when
// it is not yet known.
func (o *OIDC) key(ctx context.Context, d *Discovery, kid string) (any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.keys != nil {
		if k, ok := o.keys.Key(kid); ok {
			return k, nil
		}
	}
	now := o.cfg.Clock()
	if o.keys != nil && now.Sub(o.keysFetch) < jwksRefetch && !now.Before(o.keysFetch) {
		return nil, fmt.Errorf("unknown key %q", kid)
	}
	var raw json.RawMessage
	if err := getJSON(ctx, httpClient(ctx), d.JWKSURI, nil, &raw, ErrDiscovery); err != nil {
		return nil, err
	}
	ks, err := ParseKeySet(raw)
	if err != nil {
		return nil, err
	}
	o.keys, o.keysFetch = ks, now
	if k, ok := ks.Key(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown key %q", kid)
}
