package oauth

import (
	"encoding/json"
	"strings"

	"golang.org/x/oauth2"
)

// OIDC endpoints of the built-in providers. c.AuthURL/TokenURL/APIURL are
// ignored by them; c.APIURL, when set, replaces the issuer (for tests and
// self-hosted GitLab).

// Google returns the Google provider ("google"), OpenID Connect with
// access_type=offline so that a refresh token is issued.
func Google(c Config) (*OIDC, error) {
	return NewOIDC(OIDCConfig{
		Name: "google", Issuer: or(c.APIURL, "https://accounts.google.com"),
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: c.Scopes,
		AuthParams: map[string]string{"access_type": "offline"},
	})
}

// twitchClaims asks Twitch to put the email, its verification and the
// username in the ID token, and the picture in the userinfo answer.
var twitchClaims = func() string {
	want := map[string]any{"email": nil, "email_verified": nil, "preferred_username": nil}
	info := map[string]any{"email": nil, "email_verified": nil, "preferred_username": nil, "picture": nil}
	b, _ := json.Marshal(map[string]any{"id_token": want, "userinfo": info})
	return string(b)
}()

// Twitch returns the Twitch provider ("twitch"), OpenID Connect with the
// claims parameter; Twitch wants the client secret in the token request's
// body.
func Twitch(c Config) (*OIDC, error) {
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{"openid", "user:read:email"}
	}
	return NewOIDC(OIDCConfig{
		Name: "twitch", Issuer: or(c.APIURL, "https://id.twitch.tv/oauth2"),
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: scopes,
		AuthParams: map[string]string{"claims": twitchClaims},
		AuthStyle:  oauth2.AuthStyleInParams,
	})
}

// GitLab returns the GitLab provider ("gitlab"), OpenID Connect against
// gitlab.com or, with c.APIURL, a self-hosted instance.
func GitLab(c Config) (*OIDC, error) {
	return NewOIDC(OIDCConfig{
		Name: "gitlab", Issuer: or(c.APIURL, "https://gitlab.com"),
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: c.Scopes,
	})
}

// MicrosoftConsumerTenant is the tenant of personal Microsoft accounts.
const MicrosoftConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// Microsoft returns the Microsoft identity platform provider
// ("microsoft"), OpenID Connect over the "common" tenant (any work, school
// or personal account) unless c.APIURL names another issuer. Microsoft's
// email claim carries no verification flag: it counts as verified for
// personal accounts (whose address Microsoft verified) and when the
// optional xms_edov claim is true, never otherwise.
func Microsoft(c Config) (*OIDC, error) {
	return NewOIDC(OIDCConfig{
		Name: "microsoft", Issuer: or(c.APIURL, "https://login.microsoftonline.com/common/v2.0"),
		ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: c.Scopes,
		emailVerified: func(claims map[string]any) bool {
			tid, _ := claims["tid"].(string)
			return strings.EqualFold(tid, MicrosoftConsumerTenant) || claimTrue(claims["xms_edov"])
		},
	})
}
