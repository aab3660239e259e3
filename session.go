package usermgmt

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Session is one login: a row that outlives the short access token and
// carries the refresh token (stored only as hashes).
type Session struct {
	ID       string
	UserUUID string
	// Generation counts refresh rotations.
	Generation int64
	// RefreshHash is the SHA-256 of the current refresh token,
	// PrevRefreshHash that of the one it replaced.
	RefreshHash     []byte `json:"-"`
	PrevRefreshHash []byte `json:"-"`
	// SealedSuccessor is the current refresh token encrypted under the
	// server's key, so that a parallel request presenting the previous token
	// within the grace window receives the same successor.
	SealedSuccessor []byte `json:"-"`
	CreatedAt       time.Time
	RotatedAt       time.Time
	ExpiresAt       time.Time
	RevokedAt       *time.Time
	IP              string
	UserAgent       string
}

// Active reports whether the session can still be used at now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt)
}

// Refresh tokens are "<session id>.<32 random bytes, base64url>". The store
// keeps only their SHA-256. On use a token is rotated: the session's hash
// moves to PrevRefreshHash, a new token replaces it, and the new token is
// also kept sealed (AES-GCM under a key derived from the JWT secret) so that
// a parallel request presenting the previous token within the grace window
// receives the same successor, on any instance. After the grace window the
// previous token is proof of theft or replay: the session is revoked.

const refreshSecretBytes = 32

// refreshSealInfo labels the key derivation of the seal key.
const refreshSealInfo = "usermgmt refresh-token seal v1"

func (m *Manager) newRefreshToken(sid string) (token string, hash []byte, err error) {
	b, err := m.randomBytes(refreshSecretBytes)
	if err != nil {
		return "", nil, err
	}
	token = sid + "." + base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}

// parseRefreshToken returns the session ID of a well-formed refresh token.
func parseRefreshToken(token string) (string, bool) {
	sid, secret, ok := strings.Cut(token, ".")
	if !ok || ValidateUUID(sid) != nil || len(secret) != base64.RawURLEncoding.EncodedLen(refreshSecretBytes) {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return "", false
	}
	return strings.ToLower(sid), true
}

// newSealer returns the AEAD that seals successor tokens.
func newSealer(secret []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, refreshSealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("usermgmt: derive seal key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("usermgmt: seal cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

func sealAD(sid string, generation int64) []byte {
	return fmt.Appendf(nil, "%s/%d", sid, generation)
}

func (m *Manager) seal(token, sid string, generation int64) ([]byte, error) {
	aead := m.sealer
	nonce, err := m.randomBytes(aead.NonceSize())
	if err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, []byte(token), sealAD(sid, generation)), nil
}

func (m *Manager) unseal(sealed []byte, sid string, generation int64) (string, error) {
	aead := m.sealer
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("usermgmt: sealed successor too short")
	}
	nonce, box := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, box, sealAD(sid, generation))
	if err != nil {
		return "", fmt.Errorf("usermgmt: unseal successor: %w", err)
	}
	return string(plain), nil
}

// Refresh exchanges a refresh token for new tokens, rotating it. Within
// Config.RefreshReuseGrace of a rotation, the previous token yields the same
// successor (parallel tabs agree); later, presenting it revokes the session
// (ErrSessionRevoked). Refreshing extends the session by Config.SessionTTL.
func (m *Manager) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	sid, ok := parseRefreshToken(refreshToken)
	if !ok {
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
		u, err := m.store.UserByUUID(ctx, s.UserUUID)
		if errors.Is(err, ErrNotFound) || (err == nil && !u.IsActive) {
			return nil, ErrSessionRevoked
		}
		if err != nil {
			return nil, err
		}
		switch {
		case subtle.ConstantTimeCompare(hash, s.RefreshHash) == 1:
			t, rotated, err := m.rotate(ctx, s, u, hash, now)
			if err != nil || rotated {
				return t, err
			}
			// Another request rotated it first: read again, and the token
			// is now the previous one.
		case subtle.ConstantTimeCompare(hash, s.PrevRefreshHash) == 1:
			if now.Sub(s.RotatedAt) <= m.cfg.RefreshReuseGrace {
				successor, err := m.unseal(s.SealedSuccessor, s.ID, s.Generation)
				if err != nil {
					return nil, err
				}
				return m.issue(u, s.ID, successor, now)
			}
			return nil, m.revokeReused(ctx, s, now)
		default:
			return nil, ErrInvalidToken
		}
	}
	return nil, ErrSessionRevoked
}

// rotate replaces the session's refresh token if no one else did first.
func (m *Manager) rotate(ctx context.Context, s *Session, u *User, hash []byte, now time.Time) (*Tokens, bool, error) {
	next, nextHash, err := m.newRefreshToken(s.ID)
	if err != nil {
		return nil, false, err
	}
	gen := s.Generation + 1
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
	t, err := m.issue(u, s.ID, next, now)
	return t, true, err
}

// revokeReused ends a session whose previous refresh token came back after
// the grace window.
func (m *Manager) revokeReused(ctx context.Context, s *Session, now time.Time) error {
	err := m.store.InTx(ctx, func(ctx context.Context, tx Store) error {
		if err := tx.RevokeSession(ctx, s.ID, now); err != nil {
			return err
		}
		return m.audit(ctx, tx, "", s.UserUUID, AuditRefreshReuse, s.ID)
	})
	m.cache.invalidateSessions(s.ID)
	m.cache.invalidateUser(s.UserUUID)
	if err != nil {
		return err
	}
	m.log.WarnContext(ctx, "refresh token reused after rotation; session revoked", "user", s.UserUUID, "session", s.ID)
	return ErrSessionRevoked
}
