package usermgmt

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// A refresh token is "<session id>.<base64url of 48 bytes>": the session's
// generation (8 bytes), 24 random bytes, and a 16-byte tag, an HMAC of the
// three under a key derived from the JWT secret. The store keeps only the
// SHA-256 of the current token and of the previous one.
//
// On use a token is rotated: the session's hash moves to PrevRefreshHash, a
// new token of the next generation replaces it, and the new token is also
// kept sealed (AES-GCM) so that a parallel request presenting the previous
// token within the grace window receives the same successor, on any
// instance. Presenting an older token afterwards is proof of theft or
// replay, and revokes the session. The tag is what makes that proof: only
// the server can make a token of a given session and generation, so an
// attacker who read a session ID (every access token carries one) cannot
// forge an "old token" to kill someone's session.

const (
	refreshGenBytes    = 8
	refreshRandomBytes = 24
	refreshTagBytes    = 16
	refreshBodyBytes   = refreshGenBytes + refreshRandomBytes + refreshTagBytes
)

// refreshKeys are the keys of refresh tokens, derived from the JWT secrets:
// the current secret's make tokens and seals, the previous ones' still
// verify and unseal, so that a key rotation breaks no session.
type refreshKeys struct {
	tags    [][]byte
	sealers []cipher.AEAD
}

func newRefreshKeys(current []byte, previous [][]byte) (*refreshKeys, error) {
	k := &refreshKeys{}
	for _, secret := range append([][]byte{current}, previous...) {
		tag, err := hkdf.Key(sha256.New, secret, nil, "usermgmt refresh-token tag v1", 32)
		if err != nil {
			return nil, fmt.Errorf("usermgmt: derive refresh tag key: %w", err)
		}
		seal, err := hkdf.Key(sha256.New, secret, nil, "usermgmt refresh-token seal v1", 32)
		if err != nil {
			return nil, fmt.Errorf("usermgmt: derive refresh seal key: %w", err)
		}
		block, err := aes.NewCipher(seal)
		if err != nil {
			return nil, fmt.Errorf("usermgmt: refresh seal cipher: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("usermgmt: refresh seal cipher: %w", err)
		}
		k.tags = append(k.tags, tag)
		k.sealers = append(k.sealers, aead)
	}
	return k, nil
}

func refreshTag(key []byte, sid string, genAndRandom []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(sid))
	mac.Write(genAndRandom)
	return mac.Sum(nil)[:refreshTagBytes]
}

// newRefreshToken makes the token of a session's generation and its hash.
func (m *Manager) newRefreshToken(sid string, generation int64) (token string, hash []byte, err error) {
	body := make([]byte, refreshBodyBytes)
	binary.BigEndian.PutUint64(body, uint64(generation))
	if _, err := io.ReadFull(m.cfg.Rand, body[refreshGenBytes:refreshGenBytes+refreshRandomBytes]); err != nil {
		return "", nil, fmt.Errorf("usermgmt: read random: %w", err)
	}
	copy(body[refreshGenBytes+refreshRandomBytes:], refreshTag(m.refresh.tags[0], sid, body[:refreshGenBytes+refreshRandomBytes]))
	token = sid + "." + base64.RawURLEncoding.EncodeToString(body)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}

// parseRefreshToken returns the session ID, generation and body of a
// syntactically well-formed refresh token.
func parseRefreshToken(token string) (sid string, generation int64, body []byte, ok bool) {
	sid, enc, ok := strings.Cut(token, ".")
	if !ok || ValidateUUID(sid) != nil || len(enc) != base64.RawURLEncoding.EncodedLen(refreshBodyBytes) {
		return "", 0, nil, false
	}
	body, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || len(body) != refreshBodyBytes {
		return "", 0, nil, false
	}
	gen := binary.BigEndian.Uint64(body)
	if gen > 1<<62 {
		return "", 0, nil, false
	}
	return strings.ToLower(sid), int64(gen), body, true
}

// genuine reports whether a token's tag was made by this server (under the
// current or a previous key).
func (k *refreshKeys) genuine(sid string, body []byte) bool {
	n := refreshGenBytes + refreshRandomBytes
	for _, key := range k.tags {
		if hmac.Equal(body[n:], refreshTag(key, sid, body[:n])) {
			return true
		}
	}
	return false
}

func sealAD(sid string, generation int64) []byte {
	return fmt.Appendf(nil, "%s/%d", sid, generation)
}

func (m *Manager) seal(token, sid string, generation int64) ([]byte, error) {
	aead := m.refresh.sealers[0]
	nonce, err := m.randomBytes(aead.NonceSize())
	if err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, []byte(token), sealAD(sid, generation)), nil
}

func (m *Manager) unseal(sealed []byte, sid string, generation int64) (string, error) {
	for _, aead := range m.refresh.sealers {
		if len(sealed) < aead.NonceSize() {
			break
		}
		nonce, box := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
		if plain, err := aead.Open(nil, nonce, box, sealAD(sid, generation)); err == nil {
			return string(plain), nil
		}
	}
	return "", errors.New("usermgmt: cannot unseal the successor refresh token")
}

// Refresh exchanges a refresh token for new tokens, rotating it. Within
// Config.RefreshReuseGrace of a rotation, the previous token yields the same
// successor (parallel tabs agree); presenting it later, or any older token
// of the session, revokes the session (ErrSessionRevoked). Refreshing
// extends the session by Config.SessionTTL.
func (m *Manager) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	ctx, span := m.tel.start(ctx, "usermgmt.Refresh")
	t, err := m.refreshTokens(ctx, refreshToken)
	m.tel.count(ctx, m.tel.refreshes, attribute.String("outcome", outcome(err)))
	m.tel.end(span, err)
	return t, err
}

// refreshTokens is Refresh without its span and metric.
func (m *Manager) refreshTokens(ctx context.Context, refreshToken string) (*Tokens, error) {
	sid, gen, body, ok := parseRefreshToken(refreshToken)
	if !ok || !m.refresh.genuine(sid, body) {
		return nil, ErrInvalidToken
	}
	sum := sha256.Sum256([]byte(refreshToken))
	hash := sum[:]
	for attempt := 0; attempt < 3; attempt++ {
		now := m.now()
		s, err := m.store.SessionByID(ctx, sid)
		if errors.Is(err, ErrNotFound) {
			return nil, ErrInvalidToken
		}
		if err != nil {
			return nil, err
		}
		if !s.Active(now) {
			return nil, ErrSessionRevoked
		}
		// The user's state comes from the profile cache, as on every
		// authenticated request: writes here invalidate it at once, other
		// instances within CacheTTL.
		p, err := m.Profile(ctx, s.UserUUID)
		if errors.Is(err, ErrUserNotFound) || (err == nil && !p.User.IsActive) {
			return nil, ErrSessionRevoked
		}
		if err != nil {
			return nil, err
		}
		u := p.User
		switch {
		case subtle.ConstantTimeCompare(hash, s.RefreshHash) == 1:
			t, rotated, err := m.rotate(ctx, s, u, hash, now)
			if err != nil || rotated {
				return t, err
			}
			// Another request rotated it first: read again, and the token
			// is now the previous one.
		case subtle.ConstantTimeCompare(hash, s.PrevRefreshHash) == 1 && now.Sub(s.RotatedAt) <= m.cfg.RefreshReuseGrace:
			successor, err := m.unseal(s.SealedSuccessor, s.ID, s.Generation)
			if err != nil {
				// Sealed under a key no longer configured: rotate anew
				// rather than fail.
				t, _, err := m.rotate(ctx, s, u, s.RefreshHash, now)
				return t, err
			}
			extra, err := m.accessTokenClaims(ctx, u, s)
			if err != nil {
				return nil, err
			}
			return m.issue(u, s.ID, successor, now, tokenGrant{}, extra)
		case gen < s.Generation:
			return nil, m.revokeReused(ctx, s)
		default:
			return nil, ErrInvalidToken
		}
	}
	return nil, ErrSessionRevoked
}

// rotate replaces the session's refresh token if no one else did first.
func (m *Manager) rotate(ctx context.Context, s *Session, u *User, hash []byte, now time.Time) (*Tokens, bool, error) {
	// The hook runs before the rotation is stored: its failure leaves the
	// client's refresh token valid.
	extra, err := m.accessTokenClaims(ctx, u, s)
	if err != nil {
		return nil, false, err
	}
	gen := s.Generation + 1
	next, nextHash, err := m.newRefreshToken(s.ID, gen)
	if err != nil {
		return nil, false, err
	}
	sealed, err := m.seal(next, s.ID, gen)
	if err != nil {
		return nil, false, err
	}
	ok, err := m.store.RotateSession(ctx, s.ID, s.Generation, SessionRotation{
		Generation: gen, RefreshHash: nextHash, PrevRefreshHash: hash,
		SealedSuccessor: sealed, RotatedAt: now, ExpiresAt: now.Add(m.cfg.SessionTTL),
	})
	if err != nil || !ok {
		return nil, false, err
	}
	m.cache.invalidateSessions(s.ID) // its expiry moved
	t, err := m.issue(u, s.ID, next, now, tokenGrant{}, extra)
	return t, true, err
}

// revokeReused ends a session one of whose spent refresh tokens came back
// after the grace window.
// A session already ended meanwhile is not an error: the answer is the same.
func (m *Manager) revokeReused(ctx context.Context, s *Session) error {
	err := m.revokeSession(ctx, s.UserUUID, s.ID, "", AuditRefreshReuse)
	if err != nil && !errors.Is(err, ErrSessionNotFound) {
		return err
	}
	m.log.WarnContext(ctx, "spent refresh token presented again; session revoked", "user", s.UserUUID, "session", s.ID)
	m.tel.count(ctx, m.tel.reuses)
	return ErrSessionRevoked
}
