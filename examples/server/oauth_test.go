package main

import (
	"context"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestLoadConfigOAuth(t *testing.T) {
	c, err := loadConfig(env(map[string]string{
		"API_CLIENT_ID_GITHUB":        "gh-id",
		"API_CLIENT_SECRET_GITHUB":    "gh-secret",
		"API_CLIENT_ID_MICROSOFT":     "ms-id",
		"API_CLIENT_SECRET_MICROSOFT": "ms-secret",
		"API_CLIENT_ID_TWITTER":       "ignored: not a provider",
		"OIDC_NAME":                   "Okta",
		"OIDC_ISSUER":                 "https://acme.okta.example",
		"OIDC_CLIENT_ID":              "okta-id",
		"OIDC_CLIENT_SECRET":          "okta-secret",
		"OAUTH_TOKEN_KEY":             strings.Repeat("k", 32),
		"OAUTH_REDIRECT_ALLOW_LIST":   "https://app.acme.example/after-login, http://localhost:5173",
	}))
	if err != nil {
		t.Fatalf("loadConfig = %v", err)
	}
	want := []OAuthProvider{
		{Name: "github", ClientID: "gh-id", ClientSecret: "gh-secret"},
		{Name: "microsoft", ClientID: "ms-id", ClientSecret: "ms-secret"},
		{Name: "okta", ClientID: "okta-id", ClientSecret: "okta-secret", Issuer: "https://acme.okta.example"},
	}
	if !reflect.DeepEqual(c.OAuthProviders, want) {
		t.Errorf("providers differ (%d, want %d)", len(c.OAuthProviders), len(want))
	}
	if c.OAuthTokenKey != strings.Repeat("k", 32) {
		t.Error("OAUTH_TOKEN_KEY not read")
	}
	if !slices.Equal(c.OAuthRedirectAllowList, []string{"https://app.acme.example/after-login", "http://localhost:5173"}) {
		t.Errorf("allow-list %v", c.OAuthRedirectAllowList)
	}
	ps, err := buildProviders(c.OAuthProviders)
	if err != nil || len(ps) != 3 || ps[0].Name() != "github" || ps[1].Name() != "microsoft" || ps[2].Name() != "okta" {
		t.Fatalf("buildProviders = %d providers, %v", len(ps), err)
	}
	// Every built-in provider can be built.
	all := []OAuthProvider{}
	for _, n := range builtinProviders {
		all = append(all, OAuthProvider{Name: strings.ToLower(n), ClientID: "id", ClientSecret: "s"})
	}
	if ps, err := buildProviders(all); err != nil || len(ps) != len(builtinProviders) {
		t.Fatalf("buildProviders(all) = %d, %v", len(ps), err)
	}
}

func TestLoadConfigOAuthErrors(t *testing.T) {
	for name, tt := range map[string]struct {
		vars map[string]string
		want string
	}{
		"id without secret":   {map[string]string{"API_CLIENT_ID_GOOGLE": "x"}, "API_CLIENT_ID_GOOGLE"},
		"secret without id":   {map[string]string{"API_CLIENT_SECRET_DISCORD": "x"}, "API_CLIENT_ID_DISCORD"},
		"oidc incomplete":     {map[string]string{"OIDC_ISSUER": "https://idp.example"}, "OIDC_ISSUER"},
		"oidc issuer not url": {map[string]string{"OIDC_ISSUER": "idp.example", "OIDC_CLIENT_ID": "a", "OIDC_CLIENT_SECRET": "b"}, "OIDC_ISSUER"},
		"oidc bad name": {map[string]string{"OIDC_NAME": "my idp", "OIDC_ISSUER": "https://idp.example",
			"OIDC_CLIENT_ID": "a", "OIDC_CLIENT_SECRET": "b"}, "OIDC_NAME"},
		"oidc name taken": {map[string]string{"OIDC_NAME": "github", "OIDC_ISSUER": "https://idp.example",
			"OIDC_CLIENT_ID": "a", "OIDC_CLIENT_SECRET": "b", "API_CLIENT_ID_GITHUB": "a", "API_CLIENT_SECRET_GITHUB": "b"}, "OIDC_NAME"},
		"short token key":     {map[string]string{"OAUTH_TOKEN_KEY": "short-key"}, "OAUTH_TOKEN_KEY"},
		"relative redirect":   {map[string]string{"OAUTH_REDIRECT_ALLOW_LIST": "/after"}, "OAUTH_REDIRECT_ALLOW_LIST"},
		"redirect with query": {map[string]string{"OAUTH_REDIRECT_ALLOW_LIST": "https://a.example/?x=1"}, "OAUTH_REDIRECT_ALLOW_LIST"},
	} {
		_, err := loadConfig(env(tt.vars))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one naming %s", name, err, tt.want)
		}
		if err != nil && (strings.Contains(err.Error(), "short-key")) {
			t.Errorf("%s: the error shows a secret: %v", name, err)
		}
	}
}

func TestLoadConfigOAuthSwitches(t *testing.T) {
	for name, field := range map[string]func(Config) bool{
		"OAUTH_NO_EMAIL_LINKING": func(c Config) bool { return c.OAuthNoEmailLinking },
		"OAUTH_CALLBACK_HTML":    func(c Config) bool { return c.OAuthCallbackHTML },
	} {
		for v, want := range map[string]bool{"": false, "false": false, "true": true} {
			c, err := loadConfig(env(map[string]string{name: v}))
			if err != nil || field(c) != want {
				t.Errorf("%s=%q: %v, %v; want %v", name, v, field(c), err, want)
			}
		}
		if _, err := loadConfig(env(map[string]string{name: "maybe"})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: a malformed value: %v", name, err)
		}
	}
}

// TestPlainIssuerWarning: an http:// OIDC_ISSUER is a startup warning in
// production, and only there; https:// is not.
func TestPlainIssuerWarning(t *testing.T) {
	vars := map[string]string{"OIDC_ISSUER": "http://idp.internal.example", "OIDC_CLIENT_ID": "id", "OIDC_CLIENT_SECRET": "s"}
	for _, tt := range []struct {
		environment, issuer string
		warn                bool
	}{
		{"production", "http://idp.internal.example", true},
		{"production", "HTTP://idp.internal.example", true},
		{"production", "https://idp.example", false},
		{"local", "http://idp.internal.example", false},
	} {
		vars["ENVIRONMENT"], vars["OIDC_ISSUER"] = tt.environment, tt.issuer
		vars["JWT_SECRET_KEY"] = strings.Repeat("s", 32)
		c, err := loadConfig(env(vars))
		if err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		warnPlainIssuers(context.Background(), c, slog.New(slog.NewTextHandler(&buf, nil)))
		got := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "provider=oidc")
		if got != tt.warn {
			t.Errorf("%s %s: warned %v, want %v (%q)", tt.environment, tt.issuer, got, tt.warn, buf.String())
		}
	}
}
