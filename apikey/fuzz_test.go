package apikey_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/apikey"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// FuzzParseKey: any input is either a well-formed key, whose prefix is its
// start, or ErrInvalidKey; never a panic.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"", "um_", "um_" + strings.Repeat("A", 43), "um_" + strings.Repeat("_", 43),
		"um_" + strings.Repeat("A", 42) + "B", "um_" + strings.Repeat("-", 44), "eyJhbGciOi.x.y", "um_\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prefix, err := apikey.ParseKey(s)
		// The reference: exactly SecretBytes in strict base64url after
		// the prefix.
		ref := len(s) == apikey.KeyLen && strings.HasPrefix(s, apikey.KeyPrefix)
		if ref {
			b, derr := base64.RawURLEncoding.Strict().DecodeString(s[len(apikey.KeyPrefix):])
			ref = derr == nil && len(b) == apikey.SecretBytes
		}
		if (err == nil) != ref {
			t.Fatalf("ParseKey(%q) = %v, strict base64url says valid=%v", s, err, ref)
		}
		if err != nil {
			if !errors.Is(err, apikey.ErrInvalidKey) {
				t.Fatalf("ParseKey(%q) = %v, want ErrInvalidKey", s, err)
			}
			return
		}
		if len(s) != apikey.KeyLen || !strings.HasPrefix(s, apikey.KeyPrefix) || prefix != s[:apikey.PrefixLen] {
			t.Fatalf("ParseKey(%q) accepted, prefix %q", s, prefix)
		}
	})
}

// FuzzAuthenticateKey: whatever a client sends as a key is answered 401
// (or 200 for the one real key), never 500.
func FuzzAuthenticateKey(f *testing.F) {
	e := newEnv(f, "", true, defaultCfg)
	_, tok := e.user("jane_doe")
	key, _ := e.create(tok, map[string]any{"name": "ci", "scopes": []string{}})
	f.Add(key)
	f.Add(key[:len(key)-1])
	f.Add(key[:apikey.PrefixLen] + strings.Repeat("A", apikey.KeyLen-apikey.PrefixLen))
	f.Add("um_ " + key[3:])
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "\r\n\x00") {
			return // not a header value a client can send
		}
		r := httptest.NewRequest(http.MethodGet, "/api/user/me", nil)
		r.Header.Set("X-API-Key", s)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		switch {
		case rec.Code == http.StatusOK && strings.Trim(s, " \t") == key:
		case rec.Code == http.StatusUnauthorized:
		default:
			t.Fatalf("X-API-Key %q: %d %s", s, rec.Code, rec.Body)
		}
	})
}

var defaultCfg = apikey.Config{Unlimited: true}
