package usermgmt

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestTokenActClaim: a token of an acting party carries act {sub} and the
// grant's lifetime; one whose act names nobody else is refused.
func TestTokenActClaim(t *testing.T) {
	ti, clock := testIssuer(t)
	tok, exp, err := ti.signGrant("user-uuid", "session-id", "jti-1", clock(), tokenGrant{actor: "admin-uuid", ttl: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(clock().Add(time.Hour)) {
		t.Errorf("exp = %v, want an hour on", exp)
	}
	c, err := ti.verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Act == nil || c.Act.Subject != "admin-uuid" || c.Subject != "user-uuid" {
		t.Errorf("claims = %+v, act %+v", c, c.Act)
	}
	own, _, err := ti.sign("user-uuid", "session-id", "jti-2", clock(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := ti.verify(own); err != nil || c.Act != nil {
		t.Errorf("own token: act %+v, %v", c.Act, err)
	}

	// Forged claims signed with the right key: act must name another user.
	for name, act := range map[string]any{
		"act of the subject": map[string]any{"sub": "user-uuid"},
		"act without sub":    map[string]any{},
		"act not an object":  "admin-uuid",
	} {
		claims := jwt.MapClaims{"iss": defaultIssuer, "sub": "user-uuid", "sid": "s", "jti": "j",
			"iat": clock().Unix(), "exp": clock().Add(time.Minute).Unix(), "act": act}
		tk := jwt.NewWithClaims(ti.method, claims)
		tk.Header["kid"] = ti.keys.Signer().ID()
		s, err := tk.SignedString(ti.keys.Signer().SigningKey())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ti.verify(s); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
}
