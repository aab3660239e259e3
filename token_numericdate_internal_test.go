package usermgmt

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

// handSignedToken builds an HS256 token from a raw claims object, byte for
// byte as given, so that a test controls how each claim is spelled in JSON.
func handSignedToken(t *testing.T, ti *tokenIssuer, claimsJSON string) string {
	t.Helper()
	if !json.Valid([]byte(claimsJSON)) {
		t.Fatalf("test claims are not JSON: %s", claimsJSON)
	}
	header := fmt.Sprintf(`{"alg":"HS256","kid":%q,"typ":"JWT"}`, ti.keys.Signer().ID())
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claimsJSON))
	secret, ok := ti.keys.Signer().SigningKey().([]byte)
	if !ok {
		t.Fatal("the test issuer does not sign with an HS256 secret")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// TestTokenNumericDateMustBeNumber: RFC 7519 section 2 defines NumericDate
// as a JSON number. A token whose exp, iat or nbf is a string (as the
// reference service wrote them) is refused even with a good signature.
func TestTokenNumericDateMustBeNumber(t *testing.T) {
	ti, clock := testIssuer(t)
	now := clock().Unix()
	exp := now + 600
	claims := func(expV, iatV, nbfV string) string {
		s := fmt.Sprintf(`{"iss":%q,"sub":"user-uuid","sid":"session-id","jti":"jti-1","exp":%s,"iat":%s`, defaultIssuer, expV, iatV)
		if nbfV != "" {
			s += `,"nbf":` + nbfV
		}
		return s + "}"
	}
	num := func(v int64) string { return fmt.Sprint(v) }
	str := func(v int64) string { return fmt.Sprintf("%q", fmt.Sprint(v)) }

	// The hand-built token with numbers passes: the builder is sound.
	for _, ok := range []string{
		claims(num(exp), num(now), ""),
		claims(num(exp), num(now), num(now)),
		claims(num(exp)+".5", num(now), ""),
	} {
		if _, err := ti.verify(handSignedToken(t, ti, ok)); err != nil {
			t.Fatalf("numeric claims %s refused: %v", ok, err)
		}
	}

	for name, bad := range map[string]string{
		"exp string":   claims(str(exp), num(now), ""),
		"iat string":   claims(num(exp), str(now), ""),
		"nbf string":   claims(num(exp), num(now), str(now)),
		"all strings":  claims(str(exp), str(now), str(now)),
		"exp null":     claims("null", num(now), ""),
		"exp bool":     claims("true", num(now), ""),
		"exp object":   claims(`{"v":1}`, num(now), ""),
		"iat array":    claims(num(exp), "[1]", ""),
		"exp lifetime": claims(`"600"`, str(now), ""),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ti.verify(handSignedToken(t, ti, bad))
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("verify(%s) = %v, want ErrInvalidToken", bad, err)
			}
		})
	}
}
