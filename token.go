package usermgmt

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AccessClaims are the claims of an access token: the registered claims (sub
// is the user's UUID; exp, iat, jti and iss are always set) and the session
// the token belongs to.
type AccessClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
}

// numericDateClaims are the registered claims RFC 7519 (section 2) types
// NumericDate: a JSON number of seconds.
var numericDateClaims = [...]string{"exp", "iat", "nbf"}

// UnmarshalJSON decodes the claims and refuses a NumericDate claim (exp, iat,
// nbf) spelled as anything but a JSON number. The JWT library alone also reads
// a quoted number such as "1800", which RFC 7519 does not allow.
func (c *AccessClaims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, name := range numericDateClaims {
		v, ok := raw[name]
		if !ok {
			continue
		}
		if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
			return fmt.Errorf("usermgmt: claim %q is not a JSON number", name)
		}
	}
	type plain AccessClaims // the same fields without this method
	return json.Unmarshal(b, (*plain)(c))
}

// tokenIssuer signs and verifies access tokens (HS256 with a kid header).
type tokenIssuer struct {
	issuer  string
	ttl     time.Duration
	signKey jwtKey
	keys    map[string][]byte // kid → secret, the signing key included
	parser  *jwt.Parser
}

type jwtKey struct {
	id     string
	secret []byte
}

// keyID derives a public identifier for a secret that reveals nothing of it.
func keyID(secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("usermgmt key id"))
	return hex.EncodeToString(mac.Sum(nil)[:8])
}

func newTokenIssuer(cfg Config) *tokenIssuer {
	t := &tokenIssuer{
		issuer:  cfg.Issuer,
		ttl:     cfg.AccessTokenTTL,
		signKey: jwtKey{id: keyID(cfg.JWTSecret), secret: cfg.JWTSecret},
		keys:    map[string][]byte{},
	}
	t.keys[t.signKey.id] = t.signKey.secret
	for _, s := range cfg.JWTPreviousSecrets {
		t.keys[keyID(s)] = s
	}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(cfg.Clock),
		jwt.WithLeeway(5*time.Second),
	)
	return t
}

// sign issues an access token for a user's session.
func (t *tokenIssuer) sign(userUUID, sessionID, jti string, now time.Time) (string, time.Time, error) {
	exp := now.Add(t.ttl)
	claims := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   userUUID,
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		SessionID: sessionID,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = t.signKey.id
	s, err := tok.SignedString(t.signKey.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("usermgmt: sign access token: %w", err)
	}
	return s, exp, nil
}

// maxTokenLength bounds what the parser is given; real tokens are ~300 bytes.
const maxTokenLength = 4096

// verify checks an access token's signature and claims and returns them. Any
// failure is ErrInvalidToken (with the cause wrapped, for logs).
func (t *tokenIssuer) verify(token string) (*AccessClaims, error) {
	if token == "" || len(token) > maxTokenLength {
		return nil, ErrInvalidToken
	}
	var claims AccessClaims
	_, err := t.parser.ParseWithClaims(token, &claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		key, ok := t.keys[kid]
		if !ok {
			return nil, errors.New("unknown key id")
		}
		return key, nil
	})
	if err != nil {
		return nil, ErrInvalidToken.Wrap(err)
	}
	if claims.Subject == "" || claims.SessionID == "" || claims.ID == "" {
		return nil, ErrInvalidToken.Wrap(errors.New("missing sub, sid or jti"))
	}
	return &claims, nil
}
