package usermgmt

import (
	"encoding/base64"
	"strings"
	"testing"
)

func FuzzParseToken(f *testing.F) {
	good := base64.RawURLEncoding.EncodeToString(make([]byte, tokenBytes))
	for _, s := range []string{good, "", "bearer " + good, good + "=", strings.Repeat("A", 43), strings.Repeat("_", 44)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, ok := parseToken(s)
		if !ok {
			return
		}
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) != tokenBytes || base64.RawURLEncoding.EncodeToString(b) != tok {
			t.Fatalf("parseToken(%q) accepted a non-canonical token", s)
		}
	})
}

func TestOTPSecretSealing(t *testing.T) {
	m := &Manager{cfg: Config{JWTSecret: []byte("0123456789abcdef0123456789abcdef")}.withDefaults()}
	if err := m.initAccountSecurity(); err != nil {
		t.Fatal(err)
	}
	secret, err := m.newOTPSecret()
	if err != nil || len(secret) != 32 {
		t.Fatalf("secret %q %v", secret, err)
	}
	sealed, err := m.sealOTPSecret("user-1", secret)
	if err != nil || !strings.HasPrefix(sealed, "v1:") || strings.Contains(sealed, secret) {
		t.Fatalf("sealed %q %v", sealed, err)
	}
	if got, err := m.openOTPSecret("user-1", sealed); err != nil || got != secret {
		t.Fatalf("open = %q %v", got, err)
	}
	// Bound to its user.
	if _, err := m.openOTPSecret("user-2", sealed); err == nil {
		t.Fatal("opened under another user")
	}
	// A rotated JWT secret still opens it; another secret does not.
	rotated := &Manager{cfg: Config{JWTSecret: []byte("another-secret-of-32-bytes-long!"), JWTPreviousSecrets: [][]byte{m.cfg.JWTSecret}}.withDefaults()}
	if err := rotated.initAccountSecurity(); err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.openOTPSecret("user-1", sealed); err != nil || got != secret {
		t.Fatalf("after rotation: %q %v", got, err)
	}
	stranger := &Manager{cfg: Config{JWTSecret: []byte("another-secret-of-32-bytes-long!")}.withDefaults()}
	if err := stranger.initAccountSecurity(); err != nil {
		t.Fatal(err)
	}
	if _, err := stranger.openOTPSecret("user-1", sealed); err == nil {
		t.Fatal("opened with the wrong key")
	}
	for _, bad := range []string{"plain", "v1:", "v1:!!!", "v1:AAAA"} {
		if _, err := m.openOTPSecret("user-1", bad); err == nil {
			t.Fatalf("opened %q", bad)
		}
	}
}
