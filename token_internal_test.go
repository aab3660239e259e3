package usermgmt

import (
	"strings"
	"testing"
	"time"
)

func testIssuer(t testing.TB) (*tokenIssuer, func() time.Time) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg := Config{JWTSecret: []byte("0123456789abcdef0123456789abcdef"), Clock: clock}.withDefaults()
	ti, err := newTokenIssuer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ti, clock
}

func TestTokenRoundTrip(t *testing.T) {
	ti, clock := testIssuer(t)
	tok, exp, err := ti.sign("user-uuid", "session-id", "jti-1", clock(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(clock().Add(defaultAccessTokenTTL)) {
		t.Errorf("exp = %v", exp)
	}
	c, err := ti.verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "user-uuid" || c.SessionID != "session-id" || c.ID != "jti-1" || c.Issuer != defaultIssuer ||
		c.IssuedAt == nil || !c.IssuedAt.Time.Equal(clock()) || c.ExpiresAt == nil || !c.ExpiresAt.Time.Equal(exp) {
		t.Errorf("claims = %+v", c)
	}
}

// BenchmarkVerifyJWT is access-token verification alone.
func BenchmarkVerifyJWT(b *testing.B) {
	ti, clock := testIssuer(b)
	tok, _, err := ti.sign("123e4567-e89b-42d3-a456-426614174000", "123e4567-e89b-42d3-a456-426614174001", "0123456789abcdef", clock(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ti.verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzVerifyToken feeds the access-token parser arbitrary input: it must
// never panic and never accept what it did not sign.
func FuzzVerifyToken(f *testing.F) {
	ti, clock := testIssuer(f)
	good, _, err := ti.sign("u", "s", "j", clock(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.")
	f.Add(strings.Repeat(".", 100))
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := ti.verify(tok)
		if err == nil && tok != good {
			// Only a token with our signature may pass; any other
			// accepted input must decode to the same claims.
			if c.Subject != "u" || c.SessionID != "s" {
				t.Fatalf("accepted a token it did not sign: %q", tok)
			}
		}
	})
}

// FuzzParseRefreshToken: arbitrary input never panics, whatever parses
// names a canonical session UUID, and nothing but a token this server made
// is genuine.
func FuzzParseRefreshToken(f *testing.F) {
	// Fixed randomness: every fuzz worker process must make the same good
	// token as the one that seeded the corpus.
	m := &Manager{cfg: Config{Rand: zeroReader{}}}
	var err error
	if m.refresh, err = newRefreshKeys([]byte("0123456789abcdef0123456789abcdef"), nil); err != nil {
		f.Fatal(err)
	}
	good, _, err := m.newRefreshToken("123e4567-e89b-42d3-a456-426614174000", 3)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("123e4567-e89b-42d3-a456-426614174000." + strings.Repeat("A", 64))
	f.Add("")
	f.Add(".")
	f.Add("x.y.z")
	f.Fuzz(func(t *testing.T, tok string) {
		sid, gen, body, ok := parseRefreshToken(tok)
		if !ok {
			return
		}
		if ValidateUUID(sid) != nil || sid != strings.ToLower(sid) || gen < 0 {
			t.Fatalf("parsed %q to a bad session id %q or generation %d", tok, sid, gen)
		}
		if m.refresh.genuine(sid, body) && !strings.EqualFold(tok, good) {
			t.Fatalf("a token the server did not make is genuine: %q", tok)
		}
	})
}

// zeroReader is a Rand that always reads zeros.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
