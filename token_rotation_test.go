package usermgmt_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/jwtkeys"
)

// kidOf returns the kid header of a token.
func kidOf(t *testing.T, tok string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// TestKeyRotationTwoInstances walks the documented rotation with two
// instances over one database, each restarted in turn (a rolling deploy):
// tokens issued at every step stay valid on both instances until they
// expire, and new ones are signed by the new key once it is promoted.
func TestKeyRotationTwoInstances(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	st := openStore(t)
	oldKey, err := jwtkeys.Generate(jwtkeys.EdDSA, nil)
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := jwtkeys.Generate(jwtkeys.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	build := func(sign *jwtkeys.Key, verify ...*jwtkeys.Key) *usermgmt.Manager {
		t.Helper()
		set, err := jwtkeys.NewSet(sign, verify...)
		if err != nil {
			t.Fatal(err)
		}
		m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: testSecret, SigningKeys: set,
			BcryptCost: 4, Clock: clock.Now, Logger: quiet, CacheTTL: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		return m
	}
	a, b := build(oldKey), build(oldKey)
	mustCreate(t, a, "rotating_user")
	var live []string // access tokens not yet expired
	login := func(m *usermgmt.Manager, wantKid string) *usermgmt.Tokens {
		t.Helper()
		tok := mustLogin(t, m, "rotating_user")
		if got := kidOf(t, tok.AccessToken); got != wantKid {
			t.Fatalf("new token signed by %s, want %s", got, wantKid)
		}
		live = append(live, tok.AccessToken)
		return tok
	}
	allValid := func(step string, ms ...*usermgmt.Manager) {
		t.Helper()
		for i, m := range ms {
			for j, tok := range live {
				if _, err := m.Authenticate(ctx, tok); err != nil {
					t.Fatalf("%s: instance %d refused token %d (kid %s): %v", step, i, j, kidOf(t, tok), err)
				}
			}
		}
	}
	first := login(a, oldKey.ID())
	login(b, oldKey.ID())

	// 1. Publish the next key, verify-only, one instance after the other.
	a = build(oldKey, newKey)
	login(a, oldKey.ID())
	allValid("next key added on a", a, b)
	b = build(oldKey, newKey)
	allValid("next key added on both", a, b)

	// 2. After the JWKS cache time, promote it, one instance after the
	// other: while b still signs with the old key, a signs with the new
	// one, and each verifies the other's tokens.
	clock.Advance(5 * time.Minute)
	a = build(newKey, oldKey)
	login(a, newKey.ID())
	login(b, oldKey.ID())
	allValid("promoted on a", a, b)
	b = build(newKey, oldKey)
	login(b, newKey.ID())
	allValid("promoted on both", a, b)

	// 3. After the longest access-token lifetime, retire the old key.
	clock.Advance(15 * time.Minute)
	live = live[:0]
	a, b = build(newKey), build(newKey)
	login(a, newKey.ID())
	allValid("old key retired", a, b)

	// No logout: the first login's refresh token still works, and yields
	// a token of the new key.
	refreshed, err := b.Refresh(ctx, first.RefreshToken)
	if err != nil {
		t.Fatalf("refresh after the rotation: %v", err)
	}
	if kidOf(t, refreshed.AccessToken) != newKey.ID() {
		t.Error("a refresh after the rotation signed with the old key")
	}
	// A token still signed with the retired key is refused (unknown kid).
	stale := build(oldKey)
	tok := mustLogin(t, stale, "rotating_user")
	if _, err := a.Authenticate(ctx, tok.AccessToken); !errors.Is(err, usermgmt.ErrInvalidToken) {
		t.Errorf("a token of the retired key: %v", err)
	}
}
