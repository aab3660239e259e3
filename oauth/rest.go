package oauth

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Config is a provider's client registration and, for tests or
// self-hosted instances, its endpoints. Empty endpoints take the
// provider's public ones.
type Config struct {
	ClientID     string
	ClientSecret string
	// Scopes replace the provider's default scopes when not nil.
	Scopes []string
	// AuthURL and TokenURL are the OAuth 2.0 endpoints.
	AuthURL, TokenURL string
	// APIURL is the base of the provider's REST API (GitHub:
	// https://api.github.com; Discord: https://discord.com/api).
	APIURL string
	// Issuer, when set, is a plain OAuth 2.0 provider's issuer identifier,
	// which the iss parameter of its authorization responses must name
	// (see CheckIssuer). The OpenID Connect providers take theirs from
	// discovery and ignore it.
	Issuer string
}

// restProvider is a plain OAuth 2.0 provider whose profile comes from its
// REST API.
type restProvider struct {
	name    string
	issuer  string
	oauth   oauth2.Config
	api     string
	profile func(ctx context.Context, r *restProvider, tok *oauth2.Token) (*Profile, error)
}

// Name implements Provider.
func (r *restProvider) Name() string { return r.name }

// OAuth2 implements Provider.
func (r *restProvider) OAuth2(_ context.Context, callbackURL string) (*oauth2.Config, error) {
	c := r.oauth
	c.Scopes = append([]string(nil), r.oauth.Scopes...)
	c.RedirectURL = callbackURL
	return &c, nil
}

// Issuer implements Issuer: Config.Issuer, "" when unset.
func (r *restProvider) Issuer(context.Context) (string, bool, error) { return r.issuer, false, nil }

// AuthParams implements Provider: a plain OAuth 2.0 provider has none.
func (r *restProvider) AuthParams(string) []oauth2.AuthCodeOption { return nil }

// Profile implements Provider, reading the REST API.
func (r *restProvider) Profile(ctx context.Context, tok *oauth2.Token, _ string) (*Profile, error) {
	return r.profile(ctx, r, tok)
}

// newREST builds a plain OAuth 2.0 provider. style is how it takes the
// client's credentials at the token endpoint: fixed, never auto-detected,
// whose second try would present an already spent code again.
func newREST(name string, c Config, authURL, tokenURL, apiURL string, style oauth2.AuthStyle, scopes []string,
	profile func(context.Context, *restProvider, *oauth2.Token) (*Profile, error)) *restProvider {
	if c.Scopes != nil {
		scopes = c.Scopes
	}
	return &restProvider{
		name: name, issuer: c.Issuer,
		oauth: oauth2.Config{
			ClientID: c.ClientID, ClientSecret: c.ClientSecret, Scopes: scopes,
			Endpoint: oauth2.Endpoint{AuthURL: or(c.AuthURL, authURL), TokenURL: or(c.TokenURL, tokenURL), AuthStyle: style},
		},
		api:     endpointOr(c.APIURL, apiURL),
		profile: profile,
	}
}

// GitHub returns the GitHub provider ("github"). Its profile's emails come
// from the emails API: verified, not the @users.noreply.github.com relay,
// the primary first.
func GitHub(c Config) Provider {
	return newREST("github", c, "https://github.com/login/oauth/authorize",
		"https://github.com/login/oauth/access_token", "https://api.github.com", oauth2.AuthStyleInParams,
		[]string{"read:user", "user:email"}, githubProfile)
}

func githubProfile(ctx context.Context, r *restProvider, tok *oauth2.Token) (*Profile, error) {
	client := apiClient(ctx, tok)
	var u struct {
		ID        int64  `json:"id"`
		Login     string `json:"login"`
		Name      string `json:"name"`
		AvatarURL string `json:"avatar_url"`
	}
	if err := getJSON(ctx, client, r.api+"/user", nil, &u, ErrProfile); err != nil {
		return nil, err
	}
	if u.ID == 0 || u.Login == "" {
		return nil, fmt.Errorf("%w: github user without id or login", ErrProfile)
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := getJSON(ctx, client, r.api+"/user/emails", nil, &emails, ErrProfile); err != nil {
		return nil, err
	}
	p := &Profile{ID: strconv.FormatInt(u.ID, 10), Username: u.Login, DisplayName: or(u.Name, u.Login), PictureURL: u.AvatarURL}
	for _, e := range emails {
		if !e.Verified || e.Email == "" || strings.HasSuffix(strings.ToLower(e.Email), "@users.noreply.github.com") {
			continue
		}
		if e.Primary {
			p.Emails = append([]string{e.Email}, p.Emails...)
		} else {
			p.Emails = append(p.Emails, e.Email)
		}
	}
	return p, nil
}

// Discord returns the Discord provider ("discord"). Its email counts as
// verified when Discord's "verified" flag is set.
func Discord(c Config) Provider {
	return newREST("discord", c, "https://discord.com/oauth2/authorize",
		"https://discord.com/api/oauth2/token", "https://discord.com/api", oauth2.AuthStyleInHeader,
		[]string{"identify", "email"}, discordProfile)
}

func discordProfile(ctx context.Context, r *restProvider, tok *oauth2.Token) (*Profile, error) {
	var u struct {
		ID         string `json:"id"`
		Username   string `json:"username"`
		GlobalName string `json:"global_name"`
		Avatar     string `json:"avatar"`
		Email      string `json:"email"`
		Verified   bool   `json:"verified"`
	}
	if err := getJSON(ctx, apiClient(ctx, tok), r.api+"/users/@me", nil, &u, ErrProfile); err != nil {
		return nil, err
	}
	if u.ID == "" || u.Username == "" {
		return nil, fmt.Errorf("%w: discord user without id or username", ErrProfile)
	}
	p := &Profile{ID: u.ID, Username: u.Username, DisplayName: or(u.GlobalName, u.Username)}
	if u.Verified && u.Email != "" {
		p.Emails = []string{u.Email}
	}
	if u.Avatar != "" {
		p.PictureURL = "https://cdn.discordapp.com/avatars/" + u.ID + "/" + u.Avatar + ".png"
	}
	return p, nil
}
