package usermgmt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/usermgmt/usermgmt/jwtkeys"
)

// AccessClaims are the claims of an access token: the registered claims (sub
// is the user's UUID; exp, iat, jti and iss are always set, aud when
// Config.Audience is), the session the token belongs to and, for a session
// opened on the user's behalf by another (OpenSession with ActingParty), the
// actor.
type AccessClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
	// Act is the RFC 8693 actor claim: the user acting as the subject (an
	// admin impersonating them), nil for the subject's own session.
	Act *ActorClaim `json:"act,omitempty"`
	// Feature holds the claims the ClaimsFeatures declared, as found in
	// the token (nil for none); Authenticate hands them on in
	// Principal.Claims.
	Feature map[string]json.RawMessage `json:"-"`
}

// ActorClaim is the value of the "act" claim (RFC 8693 section 4.1): sub is
// the UUID of the user who acts as the token's subject.
type ActorClaim struct {
	Subject string `json:"sub"`
}

// reservedClaims are the claims the library sets itself (see
// IsReservedClaim).
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"sid": true, "act": true, "scope": true, "client_id": true,
}

// IsReservedClaim reports whether name is a claim the library sets itself
// (iss, sub, aud, exp, nbf, iat, jti, sid, act, scope, client_id), which a
// Config.AccessTokenClaims hook cannot set. The claims a ClaimsFeature
// declares are reserved for it as well, on the Manager it is enabled on.
func IsReservedClaim(name string) bool { return reservedClaims[name] }

// UnmarshalJSON decodes the claims and refuses a NumericDate claim (exp, iat,
// nbf) spelled as anything but a JSON number. The JWT library alone also reads
// a quoted number such as "1800", which RFC 7519 does not allow.
func (c *AccessClaims) UnmarshalJSON(b []byte) error {
	type plain AccessClaims // the same fields without this method
	// One pass: the outer fields shadow the embedded exp, iat and nbf, so
	// they arrive raw and are checked before they are read as numbers.
	var v struct {
		*plain
		Exp json.RawMessage `json:"exp"`
		Iat json.RawMessage `json:"iat"`
		Nbf json.RawMessage `json:"nbf"`
	}
	v.plain = (*plain)(c)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	for _, d := range [...]struct {
		name string
		raw  json.RawMessage
		dst  **jwt.NumericDate
	}{{"exp", v.Exp, &c.ExpiresAt}, {"iat", v.Iat, &c.IssuedAt}, {"nbf", v.Nbf, &c.NotBefore}} {
		if d.raw == nil {
			continue // absent
		}
		if d.raw[0] != '-' && (d.raw[0] < '0' || d.raw[0] > '9') {
			return fmt.Errorf("usermgmt: claim %q is not a JSON number", d.name)
		}
		var n jwt.NumericDate
		if err := n.UnmarshalJSON(d.raw); err != nil {
			return err
		}
		*d.dst = &n
	}
	return nil
}

// tokenIssuer signs and verifies access tokens with a key set: one key
// signs (with a kid header), every key verifies tokens that name it.
type tokenIssuer struct {
	issuer   string
	audience string
	ttl      time.Duration
	keys     *jwtkeys.Set
	method   jwt.SigningMethod // of the signing key
	parser   *jwt.Parser
	// features are the claims the ClaimsFeatures declared, read back by
	// verify.
	features map[string]ClaimsFeature
}

// accessKeys returns the key set of cfg: SigningKeys, or the HS256 set of
// JWTSecret (signing) and JWTPreviousSecrets.
func accessKeys(cfg Config) (*jwtkeys.Set, error) {
	if cfg.SigningKeys != nil {
		return cfg.SigningKeys, nil
	}
	sign, err := jwtkeys.Secret(cfg.JWTSecret)
	if err != nil {
		return nil, err
	}
	var verify []*jwtkeys.Key
	for _, s := range cfg.JWTPreviousSecrets {
		k, err := jwtkeys.Secret(s)
		if err != nil {
			return nil, err
		}
		if k.ID() != sign.ID() {
			verify = append(verify, k)
		}
	}
	return jwtkeys.NewSet(sign, verify...)
}

func newTokenIssuer(cfg Config) (*tokenIssuer, error) {
	keys, err := accessKeys(cfg)
	if err != nil {
		return nil, fmt.Errorf("usermgmt: access token keys: %w", err)
	}
	method := jwt.GetSigningMethod(keys.Signer().Algorithm())
	if method == nil {
		return nil, fmt.Errorf("usermgmt: access token keys: no signing method for %s", keys.Signer().Algorithm())
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(keys.Algorithms()),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(cfg.Clock),
		jwt.WithLeeway(5 * time.Second),
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return &tokenIssuer{
		issuer: cfg.Issuer, audience: cfg.Audience, ttl: cfg.AccessTokenTTL,
		keys: keys, method: method, parser: jwt.NewParser(opts...),
	}, nil
}

// signedClaims are the claims of a token being signed: the library's, then
// the hook's extra claims (checked by accessTokenClaims).
type signedClaims struct {
	AccessClaims
	extra []byte // a JSON object, or nil
}

// MarshalJSON writes the library's claims and the extra ones in one object.
func (c signedClaims) MarshalJSON() ([]byte, error) {
	base, err := json.Marshal(c.AccessClaims)
	if err != nil || len(c.extra) <= 2 { // nil or "{}"
		return base, err
	}
	out := append(base[:len(base)-1:len(base)-1], ',')
	return append(out, c.extra[1:]...), nil
}

// tokenGrant is what an access token says beyond its user and session:
// the actor (act.sub, "" for none), and a lifetime other than
// Config.AccessTokenTTL (0 for that one).
type tokenGrant struct {
	actor string
	ttl   time.Duration
}

// sign issues an access token for a user's own session, with the extra
// claims (a JSON object from accessTokenClaims, or nil).
func (t *tokenIssuer) sign(userUUID, sessionID, jti string, now time.Time, extra []byte) (string, time.Time, error) {
	return t.signGrant(userUUID, sessionID, jti, now, tokenGrant{}, extra)
}

// signGrant is sign for a token of grant g.
func (t *tokenIssuer) signGrant(userUUID, sessionID, jti string, now time.Time, g tokenGrant, extra []byte) (string, time.Time, error) {
	ttl := t.ttl
	if g.ttl > 0 {
		ttl = g.ttl
	}
	exp := now.Add(ttl)
	claims := signedClaims{AccessClaims: AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   userUUID,
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		SessionID: sessionID,
	}, extra: extra}
	if g.actor != "" {
		claims.Act = &ActorClaim{Subject: g.actor}
	}
	if t.audience != "" {
		claims.Audience = jwt.ClaimStrings{t.audience}
	}
	tok := jwt.NewWithClaims(t.method, claims)
	signer := t.keys.Signer()
	tok.Header["kid"] = signer.ID()
	s, err := tok.SignedString(signer.SigningKey())
	if err != nil {
		return "", time.Time{}, fmt.Errorf("usermgmt: sign access token: %w", err)
	}
	if len(s) > maxTokenLength {
		return "", time.Time{}, ErrAccessTokenClaims.Wrap(fmt.Errorf("the access token has %d bytes, more than the %d a verifier reads", len(s), maxTokenLength))
	}
	return s, exp, nil
}

// maxTokenLength bounds what the parser is given and what sign issues;
// tokens without extra claims are 300 to 700 bytes.
const maxTokenLength = 4096

// errUnknownKey refuses a token whose kid names no key of the set.
var errUnknownKey = errors.New("unknown key id")

// verify checks an access token's signature and claims and returns them. Any
// failure is ErrInvalidToken (with the cause wrapped, for logs). The token
// must name a key of the set in its kid, and its alg must be that key's:
// "none" and an HS256 token checked against a public key never pass.
func (t *tokenIssuer) verify(token string) (*AccessClaims, error) {
	if token == "" || len(token) > maxTokenLength {
		return nil, ErrInvalidToken
	}
	var claims AccessClaims
	tok, err := t.parser.ParseWithClaims(token, &claims, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		key, ok := t.keys.Lookup(kid)
		if !ok {
			return nil, errUnknownKey
		}
		if tok.Method == nil || tok.Method.Alg() != key.Algorithm() {
			return nil, fmt.Errorf("alg %v does not match the key %s (%s)", tok.Header["alg"], kid, key.Algorithm())
		}
		return key.VerificationKey(), nil
	})
	if err != nil {
		return nil, ErrInvalidToken.Wrap(err)
	}
	if claims.Subject == "" || claims.SessionID == "" || claims.ID == "" {
		return nil, ErrInvalidToken.Wrap(errors.New("missing sub, sid or jti"))
	}
	if claims.Act != nil && (claims.Act.Subject == "" || claims.Act.Subject == claims.Subject) {
		return nil, ErrInvalidToken.Wrap(errors.New("an act claim without another sub"))
	}
	if len(t.features) > 0 {
		if claims.Feature, err = readFeatureClaims(tok.Raw, t.features); err != nil {
			return nil, ErrInvalidToken.Wrap(err)
		}
	}
	return &claims, nil
}

// maxExtraClaimsBytes bounds the JSON of a hook's claims.
const maxExtraClaimsBytes = 2048

// accessTokenClaims runs the Config.AccessTokenClaims hook for a token
// about to be issued and returns its claims as a JSON object (nil without
// a hook or claims). It runs before anything is stored, so its failure
// changes nothing.
func (m *Manager) accessTokenClaims(ctx context.Context, u *User, s *Session) ([]byte, error) {
	if m.cfg.AccessTokenClaims == nil && len(m.claimFeatures) == 0 {
		return nil, nil
	}
	// The hook and the features see copies, without the secrets they have
	// no use for.
	uc, sc := *u, *s
	uc.PasswordHash, uc.OTPSecret = "", ""
	sc.RefreshHash, sc.PrevRefreshHash, sc.SealedSuccessor = nil, nil, nil
	claims := map[string]any{}
	if err := m.featureClaims(ctx, &uc, &sc, claims); err != nil {
		return nil, err
	}
	if m.cfg.AccessTokenClaims != nil {
		hc, err := m.cfg.AccessTokenClaims(ctx, &uc, &sc)
		if err != nil {
			if e, ok := errors.AsType[*Error](err); ok && e.Status >= 400 && e.Status < 500 {
				return nil, err
			}
			m.log.ErrorContext(ctx, "access token claims hook failed", "user", u.UUID, "err", err)
			return nil, ErrAccessTokenClaims.Wrap(err)
		}
		for name, v := range hc {
			if reservedClaims[name] || m.claimOwners[name] != nil {
				err := fmt.Errorf("the hook set the reserved claim %q", name)
				m.log.ErrorContext(ctx, "access token claims hook failed", "user", u.UUID, "err", err)
				return nil, ErrAccessTokenClaims.Wrap(err)
			}
			claims[name] = v
		}
	}
	if len(claims) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(claims)
	if err == nil && len(b) > maxExtraClaimsBytes {
		err = fmt.Errorf("the hook's claims take %d bytes, more than %d", len(b), maxExtraClaimsBytes)
	}
	if err == nil && !bytes.HasPrefix(b, []byte("{")) {
		err = errors.New("the hook's claims are not a JSON object")
	}
	if err != nil {
		m.log.ErrorContext(ctx, "access token claims hook failed", "user", u.UUID, "err", err)
		return nil, ErrAccessTokenClaims.Wrap(err)
	}
	return b, nil
}

// SigningKeys returns the key set of access tokens in force: Config.SigningKeys,
// or the HS256 set made of JWTSecret and JWTPreviousSecrets.
func (m *Manager) SigningKeys() *jwtkeys.Set { return m.tokens.keys }
