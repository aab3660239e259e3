package usermgmt_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// payloadOf returns the claims of a token.
func payloadOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAccessTokenClaimsHook: the hook's claims reach the tokens of a login
// and a refresh; it sees the user and the session but not their secrets.
func TestAccessTokenClaimsHook(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	var seen []string
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: testSecret, BcryptCost: 4, Logger: quiet,
		Audience: "api.example.com",
		AccessTokenClaims: func(ctx context.Context, u *usermgmt.User, s *usermgmt.Session) (map[string]any, error) {
			if u.PasswordHash != "" || s.RefreshHash != nil || s.ID == "" || s.UserUUID != u.UUID {
				t.Errorf("the hook got user %+v, session %+v", u, s)
			}
			seen = append(seen, s.ID)
			return map[string]any{"tenant": "acme", "roles": u.Roles, "gen": s.Generation}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	u := mustCreate(t, m, "claims_user", "admin")
	tok := mustLogin(t, m, "claims_user")
	c := payloadOf(t, tok.AccessToken)
	if c["tenant"] != "acme" || c["sub"] != u.UUID || c["sid"] != tok.SessionID || c["gen"] != 0.0 {
		t.Errorf("login claims = %v", c)
	}
	if aud, _ := c["aud"].([]any); len(aud) != 1 || aud[0] != "api.example.com" {
		t.Errorf("aud = %v", c["aud"])
	}
	if _, err := m.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	next, err := m.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if c := payloadOf(t, next.AccessToken); c["tenant"] != "acme" {
		t.Errorf("refresh claims = %v", c)
	}
	if len(seen) != 2 || seen[0] != tok.SessionID || seen[1] != tok.SessionID {
		t.Errorf("the hook saw sessions %v", seen)
	}
}

// TestAccessTokenClaimsHookFailures: a hook error, a reserved claim, an
// unencodable or oversized claim fail the login with a clean error and
// open no session; a 4xx *Error from the hook is answered as it is; a
// failing hook at refresh leaves the refresh token usable.
func TestAccessTokenClaimsHookFailures(t *testing.T) {
	ctx := context.Background()
	refused := usermgmt.NewError(http.StatusForbidden, "tenant_suspended", "Your organization is suspended.")
	for _, c := range []struct {
		name   string
		claims map[string]any
		err    error
		want   error
		status int
	}{
		{"error", nil, errors.New("claims backend down"), usermgmt.ErrAccessTokenClaims, http.StatusServiceUnavailable},
		{"reserved sub", map[string]any{"sub": "someone-else"}, nil, usermgmt.ErrAccessTokenClaims, http.StatusServiceUnavailable},
		{"reserved act", map[string]any{"act": map[string]any{"sub": "admin"}}, nil, usermgmt.ErrAccessTokenClaims, http.StatusServiceUnavailable},
		{"unencodable", map[string]any{"f": func() {}}, nil, usermgmt.ErrAccessTokenClaims, http.StatusServiceUnavailable},
		{"oversized", map[string]any{"blob": strings.Repeat("x", 4000)}, nil, usermgmt.ErrAccessTokenClaims, http.StatusServiceUnavailable},
		{"4xx error", nil, refused, refused, http.StatusForbidden},
		{"5xx error", nil, usermgmt.ErrInternal, usermgmt.ErrAccessTokenClaims, http.StatusServiceUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t)
			fail := false
			m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: testSecret, BcryptCost: 4, Logger: quiet,
				AccessTokenClaims: func(context.Context, *usermgmt.User, *usermgmt.Session) (map[string]any, error) {
					if !fail {
						return nil, nil
					}
					return c.claims, c.err
				}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Close() })
			u := mustCreate(t, m, "claims_user")
			ok := mustLogin(t, m, "claims_user")

			fail = true
			_, err = m.Login(ctx, "claims_user", goodPassword)
			if !errors.Is(err, c.want) || usermgmt.AsError(err).Status != c.status {
				t.Fatalf("login: %v, want %v (%d)", err, c.want, c.status)
			}
			if ss, err := m.Sessions(ctx, u.UUID); err != nil || len(ss) != 1 {
				t.Errorf("sessions after the failed login: %d, %v", len(ss), err)
			}
			if _, err := m.Refresh(ctx, ok.RefreshToken); !errors.Is(err, c.want) {
				t.Errorf("refresh: %v", err)
			}
			fail = false
			if _, err := m.Refresh(ctx, ok.RefreshToken); err != nil {
				t.Errorf("the refresh token after a failed refresh: %v", err)
			}
		})
	}
}
