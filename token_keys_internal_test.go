package usermgmt

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/usermgmt/usermgmt/jwtkeys"
)

// keyIssuer returns an issuer signing with a new key of alg (HS256: a
// secret) and the key.
func keyIssuer(t testing.TB, alg, audience string, verifyOnly ...*jwtkeys.Key) (*tokenIssuer, *jwtkeys.Key, func() time.Time) {
	t.Helper()
	var (
		k   *jwtkeys.Key
		err error
	)
	if alg == jwtkeys.HS256 {
		k, err = jwtkeys.Secret([]byte("0123456789abcdef0123456789abcdef"))
	} else {
		k, err = jwtkeys.Generate(alg, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	set, err := jwtkeys.NewSet(k, verifyOnly...)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg := Config{JWTSecret: []byte("another-secret-for-the-rest-0123"), SigningKeys: set, Audience: audience, Clock: clock}.withDefaults()
	ti, err := newTokenIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ti, k, clock
}

var tokenAlgorithms = []string{jwtkeys.HS256, jwtkeys.EdDSA, jwtkeys.ES256, jwtkeys.RS256}

// TestTokenEachAlgorithm: each algorithm's tokens carry its alg and kid,
// verify, and carry the extra claims and the audience.
func TestTokenEachAlgorithm(t *testing.T) {
	for _, alg := range tokenAlgorithms {
		t.Run(alg, func(t *testing.T) {
			ti, k, clock := keyIssuer(t, alg, "api.example.com")
			tok, _, err := ti.sign("user-uuid", "session-id", "jti-1", clock(), []byte(`{"tenant":"acme","n":3}`))
			if err != nil {
				t.Fatal(err)
			}
			header, payload := decodeSegments(t, tok)
			if header["alg"] != alg || header["kid"] != k.ID() {
				t.Errorf("header = %v", header)
			}
			if payload["tenant"] != "acme" || payload["n"] != 3.0 || payload["sid"] != "session-id" {
				t.Errorf("payload = %v", payload)
			}
			if aud, _ := payload["aud"].([]any); len(aud) != 1 || aud[0] != "api.example.com" {
				t.Errorf("aud = %v", payload["aud"])
			}
			c, err := ti.verify(tok)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != "user-uuid" || c.SessionID != "session-id" {
				t.Errorf("claims = %+v", c)
			}
		})
	}
}

// TestTokenAudienceRequired: with an audience configured, a token for
// another one (or none) is refused.
func TestTokenAudienceRequired(t *testing.T) {
	other, _, clock := keyIssuer(t, jwtkeys.HS256, "other")
	none, _, _ := keyIssuer(t, jwtkeys.HS256, "")
	ti, _, _ := keyIssuer(t, jwtkeys.HS256, "api")
	for name, iss := range map[string]*tokenIssuer{"other audience": other, "no audience": none} {
		tok, _, err := iss.sign("u", "s", "j", clock(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ti.verify(tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTokenRefusesForgedHeaders: an unknown kid, alg "none", an alg other
// than the key's, and an HS256 token keyed with a public key's bytes are
// all refused.
func TestTokenRefusesForgedHeaders(t *testing.T) {
	secret, err := jwtkeys.Secret([]byte("verify-only-secret-0123456789abc"))
	if err != nil {
		t.Fatal(err)
	}
	ed, err := jwtkeys.Generate(jwtkeys.EdDSA, nil)
	if err != nil {
		t.Fatal(err)
	}
	ti, rsaKey, clock := keyIssuer(t, jwtkeys.RS256, "", secret, ed)
	pubPEM, err := rsaKey.MarshalPublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	claims := AccessClaims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer: defaultIssuer, Subject: "u", ID: "j",
		IssuedAt: jwt.NewNumericDate(clock()), ExpiresAt: jwt.NewNumericDate(clock().Add(time.Minute)),
	}, SessionID: "s"}
	forge := func(method jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(method, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// The same claims signed as they should be pass: the refusals below
	// are the headers'.
	if _, err := ti.verify(forge(jwt.SigningMethodRS256, rsaKey.ID(), rsaKey.SigningKey())); err != nil {
		t.Fatalf("a well-formed token: %v", err)
	}
	unknown, err := jwtkeys.Generate(jwtkeys.RS256, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"unknown kid":            forge(jwt.SigningMethodRS256, unknown.ID(), unknown.SigningKey()),
		"no kid":                 forge(jwt.SigningMethodRS256, "", rsaKey.SigningKey()),
		"alg none":               forge(jwt.SigningMethodNone, rsaKey.ID(), jwt.UnsafeAllowNoneSignatureType),
		"HS256 with public key":  forge(jwt.SigningMethodHS256, rsaKey.ID(), pubPEM),
		"HS256 keyed by the kid": forge(jwt.SigningMethodHS256, rsaKey.ID(), []byte(rsaKey.ID())),
		"secret under RSA kid":   forge(jwt.SigningMethodHS256, rsaKey.ID(), secret.SigningKey()),
		"EdDSA under RSA kid":    forge(jwt.SigningMethodEdDSA, rsaKey.ID(), ed.SigningKey()),
		"RS256 under EdDSA kid":  forge(jwt.SigningMethodRS256, ed.ID(), rsaKey.SigningKey()),
	} {
		if _, err := ti.verify(tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
}

func decodeSegments(t *testing.T, tok string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", tok)
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload
}

// BenchmarkTokenIssue signs one access token per algorithm.
func BenchmarkTokenIssue(b *testing.B) {
	for _, alg := range tokenAlgorithms {
		b.Run(alg, func(b *testing.B) {
			ti, _, clock := keyIssuer(b, alg, "")
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ti.sign("123e4567-e89b-42d3-a456-426614174000", "123e4567-e89b-42d3-a456-426614174001", "0123456789abcdef0123456789abcdef", clock(), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTokenVerify verifies one access token per algorithm (the
// signature check that the token cache skips on a repeated token).
func BenchmarkTokenVerify(b *testing.B) {
	for _, alg := range tokenAlgorithms {
		b.Run(alg, func(b *testing.B) {
			ti, _, clock := keyIssuer(b, alg, "")
			tok, _, err := ti.sign("123e4567-e89b-42d3-a456-426614174000", "123e4567-e89b-42d3-a456-426614174001", "0123456789abcdef0123456789abcdef", clock(), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ti.verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
