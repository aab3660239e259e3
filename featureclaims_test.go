package usermgmt_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// tenantFeature is a ClaimsFeature that declares "tenant" and sets the
// value of its field (or the claims of set, for the failure cases).
type tenantFeature struct {
	names  []string
	tenant string
	set    map[string]any
}

func (f *tenantFeature) FeatureName() string                 { return "tenant" }
func (f *tenantFeature) InitFeature(*usermgmt.Manager) error { return nil }
func (f *tenantFeature) TokenClaimNames() []string           { return f.names }
func (f *tenantFeature) TokenClaims(context.Context, *usermgmt.User, *usermgmt.Session) (map[string]any, error) {
	if f.set != nil {
		return f.set, nil
	}
	if f.tenant == "" {
		return nil, nil
	}
	return map[string]any{"tenant": f.tenant}, nil
}

// TestClaimsFeature: a feature's declared claim reaches the token and
// Principal.Claims; ReissueAccessToken recomputes it for the same session
// and leaves the refresh token valid; the hook cannot set the feature's
// claim, the feature cannot set another, nor declare a core claim.
func TestClaimsFeature(t *testing.T) {
	ctx := context.Background()
	f := &tenantFeature{names: []string{"tenant"}, tenant: "acme"}
	m, err := usermgmt.New(usermgmt.Config{Store: openStore(t), JWTSecret: testSecret, BcryptCost: 4, Logger: quiet},
		usermgmt.WithFeature(f))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	mustCreate(t, m, "feature_claims", "user")
	tok := mustLogin(t, m, "feature_claims")
	p, err := m.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Claims["tenant"]) != `"acme"` || p.IssuedAt.IsZero() {
		t.Fatalf("claims = %s, iat %v", p.Claims, p.IssuedAt)
	}
	if !usermgmt.IsReservedClaim("sid") || usermgmt.IsReservedClaim("tenant") {
		t.Error("IsReservedClaim lists the core's claims only")
	}

	f.tenant = ""
	re, err := m.ReissueAccessToken(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if re.SessionID != tok.SessionID || re.RefreshToken != "" {
		t.Errorf("reissued %+v", re)
	}
	p2, err := m.Authenticate(ctx, re.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Claims != nil || p2.SessionID != tok.SessionID {
		t.Errorf("reissued claims = %s", p2.Claims)
	}
	f.tenant = "globex"
	next, err := m.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if c := payloadOf(t, next.AccessToken); c["tenant"] != "globex" {
		t.Errorf("refresh claims = %v", c)
	}
	if _, err := m.ReissueAccessToken(ctx, &usermgmt.Principal{Credential: &usermgmt.Credential{}}); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("reissue for a credential: %v", err)
	}

	f.set = map[string]any{"plan": "gold"}
	if _, err := m.Login(ctx, "feature_claims", goodPassword); !errors.Is(err, usermgmt.ErrAccessTokenClaims) {
		t.Errorf("undeclared claim: %v", err)
	}

	hooked, err := usermgmt.New(usermgmt.Config{Store: openStore(t), JWTSecret: testSecret, BcryptCost: 4, Logger: quiet,
		AccessTokenClaims: func(context.Context, *usermgmt.User, *usermgmt.Session) (map[string]any, error) {
			return map[string]any{"tenant": "spoofed"}, nil
		}}, usermgmt.WithFeature(&tenantFeature{names: []string{"tenant"}, tenant: "acme"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hooked.Close() })
	mustCreate(t, hooked, "feature_hook", "user")
	if _, err := hooked.Login(ctx, "feature_hook", goodPassword); !errors.Is(err, usermgmt.ErrAccessTokenClaims) {
		t.Errorf("the hook set a feature's claim: %v", err)
	}

	for _, names := range [][]string{{"sid"}, {""}} {
		_, err := usermgmt.New(usermgmt.Config{Store: openStore(t), JWTSecret: testSecret, BcryptCost: 4, Logger: quiet},
			usermgmt.WithFeature(&tenantFeature{names: names}))
		if err == nil || !strings.Contains(err.Error(), "core") {
			t.Errorf("feature declaring %q: %v", names, err)
		}
	}
	_, err = usermgmt.New(usermgmt.Config{Store: openStore(t), JWTSecret: testSecret, BcryptCost: 4, Logger: quiet},
		usermgmt.WithFeature(&tenantFeature{names: []string{"tenant"}}, &tenantFeature{names: []string{"tenant"}}))
	if err == nil {
		t.Error("two features declaring one claim")
	}
}
