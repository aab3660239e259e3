package main

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"github.com/usermgmt/usermgmt/oauth"
)

// OAuthProvider is one third-party login provider, enabled by
// API_CLIENT_ID_<P> and API_CLIENT_SECRET_<P> (or, for the generic OpenID
// Connect provider, OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET).
type OAuthProvider struct {
	// Name is the provider's key in URLs: github, google, ... or OIDC_NAME.
	Name         string
	ClientID     string
	ClientSecret string
	// Issuer is the generic provider's OIDC_ISSUER.
	Issuer string
}

// builtinProviders are the providers API_CLIENT_ID_<P> enables, by the <P>
// of their variables.
var builtinProviders = []string{"GITHUB", "GOOGLE", "DISCORD", "TWITCH", "GITLAB", "MICROSOFT"}

// oauthProviders reads the providers whose client ID and secret are both
// set; one without the other is an error.
func (p *parser) oauthProviders() []OAuthProvider {
	var out []OAuthProvider
	for _, name := range builtinProviders {
		idVar, secretVar := "API_CLIENT_ID_"+name, "API_CLIENT_SECRET_"+name
		id, secret := p.str(idVar, ""), strings.TrimSpace(p.getenv(secretVar))
		switch {
		case id == "" && secret == "":
			continue
		case id == "" || secret == "":
			p.fail(idVar, "and %s must be set together", secretVar)
			continue
		}
		out = append(out, OAuthProvider{Name: strings.ToLower(name), ClientID: id, ClientSecret: secret})
	}
	issuer, id, secret := p.str("OIDC_ISSUER", ""), p.str("OIDC_CLIENT_ID", ""), strings.TrimSpace(p.getenv("OIDC_CLIENT_SECRET"))
	if issuer == "" && id == "" && secret == "" {
		return out
	}
	name := strings.ToLower(p.str("OIDC_NAME", "oidc"))
	switch {
	case issuer == "" || id == "" || secret == "":
		p.fail("OIDC_ISSUER", "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set together")
	case !isHTTPURL(issuer):
		p.fail("OIDC_ISSUER", "must be an absolute http(s) URL, got %q", issuer)
	case !oauth.ValidName(name):
		p.fail("OIDC_NAME", "must be 1 to 32 of a-z, 0-9, '-' and '_', got %q", name)
	default:
		for _, b := range out {
			if b.Name == name {
				p.fail("OIDC_NAME", "%q is the name of a built-in provider", name)
				return out
			}
		}
		out = append(out, OAuthProvider{Name: name, ClientID: id, ClientSecret: secret, Issuer: issuer})
	}
	return out
}

// redirectAllowList reads OAUTH_REDIRECT_ALLOW_LIST: absolute http(s) URLs
// without query or fragment; default the frontend's URL.
func (p *parser) redirectAllowList(name, frontend string) []string {
	items := p.list(name)
	if len(items) == 0 {
		return []string{frontend}
	}
	for _, item := range items {
		u, err := url.Parse(item)
		if err != nil || !isHTTPURL(item) || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			p.fail(name, "entry %q is not an absolute http(s) URL without query, fragment or credentials", item)
			return nil
		}
	}
	return items
}

// tokenKey reads OAUTH_TOKEN_KEY: empty (a key derived from the JWT
// secret) or at least 16 bytes. The value never appears in an error.
func (p *parser) tokenKey(name string) string {
	v := p.getenv(name)
	if v != "" && len(v) < 16 {
		p.fail(name, "is %d bytes long; at least 16 are needed (32 or more recommended)", len(v))
		return ""
	}
	return v
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// buildProviders makes the oauth providers of the configuration.
func buildProviders(ps []OAuthProvider) ([]oauth.Provider, error) {
	out := make([]oauth.Provider, 0, len(ps))
	for _, p := range ps {
		c := oauth.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret}
		var (
			prov oauth.Provider
			err  error
		)
		switch p.Name {
		case "github":
			prov = oauth.GitHub(c)
		case "discord":
			prov = oauth.Discord(c)
		case "google":
			prov, err = oauth.Google(c)
		case "twitch":
			prov, err = oauth.Twitch(c)
		case "gitlab":
			prov, err = oauth.GitLab(c)
		case "microsoft":
			prov, err = oauth.Microsoft(c)
		default:
			prov, err = oauth.NewOIDC(oauth.OIDCConfig{Name: p.Name, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret})
		}
		if err != nil {
			return nil, err
		}
		out = append(out, prov)
	}
	return out, nil
}

// warnPlainIssuers warns, in production, of an OpenID Connect issuer
// (OIDC_ISSUER) reached over plain http://: its discovery document and
// keys, and so every ID token's verification, can then be rewritten by
// anyone on the path, and the codes and tokens travel in clear. It is a
// warning, not an error, so that a provider on a private network or a
// test setup still starts.
func warnPlainIssuers(ctx context.Context, cfg Config, log *slog.Logger) {
	if !cfg.Production() {
		return
	}
	for _, p := range cfg.OAuthProviders {
		if len(p.Issuer) >= 7 && strings.EqualFold(p.Issuer[:7], "http://") {
			log.WarnContext(ctx, "OIDC_ISSUER is a plain http:// URL in production: use https://",
				"provider", p.Name, "issuer", p.Issuer)
		}
	}
}
