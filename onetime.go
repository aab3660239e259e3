package usermgmt

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"time"
)

// OneTimeToken is a stored single-use secret: a link's token, an email
// code or a login challenge. Only its hash is kept.
type OneTimeToken struct {
	ID        string
	UserUUID  string
	Purpose   string
	TokenHash []byte
	// Detail is what the token is about (the email address a verification
	// link proves, say); never the secret.
	Detail    string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// RecoveryCode is one of a user's two-factor recovery codes, hashed.
type RecoveryCode struct {
	ID        string
	UserUUID  string
	CodeHash  []byte
	UsedAt    *time.Time
	CreatedAt time.Time
}

// OTPState is a user's two-factor bookkeeping: the last TOTP step accepted
// (a step is never accepted twice) and the failures of the second step
// since the last success.
type OTPState struct {
	UserUUID    string
	LastStep    int64
	Failures    int
	LockedUntil *time.Time
}

// Purposes of one-time tokens.
const (
	PurposeVerifyEmail   = "verify-email"
	PurposeResetPassword = "reset-password"
	PurposeEmailOTP      = "email-otp"
	PurposeOTPChallenge  = "otp-challenge"
)

// Lifetimes of one-time tokens.
const (
	verifyEmailTTL   = 24 * time.Hour
	resetPasswordTTL = 30 * time.Minute
	OTPChallengeTTL  = 5 * time.Minute
)

// tokenBytes is the entropy of link tokens and challenges.
const tokenBytes = 32

// encodedTokenLen is the length of an encoded token.
var encodedTokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// hashToken hashes a high-entropy token for storage and lookup.
func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// parseToken checks the shape of a token from a client (43 characters of
// base64url): anything else cannot be a token this library issued, and is
// refused before any database work.
func parseToken(s string) (string, bool) {
	if len(s) != encodedTokenLen {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != tokenBytes {
		return "", false
	}
	return s, true
}

// codeMAC hashes a low-entropy code (an email code, a recovery code) with
// the Manager's current code key, so that a copy of the database alone
// cannot be searched for the codes.
func (m *Manager) codeMAC(purpose, userUUID, code string) []byte {
	return codeMACWith(m.codeKeys[0], purpose, userUUID, code)
}

// codeMatches reports whether stored is the hash of code under any code key
// (the current one or one of a previous JWT secret), in constant time for
// each key.
func (m *Manager) codeMatches(stored []byte, purpose, userUUID, code string) bool {
	ok := false
	for _, k := range m.codeKeys {
		if subtle.ConstantTimeCompare(stored, codeMACWith(k, purpose, userUUID, code)) == 1 {
			ok = true
		}
	}
	return ok
}

func codeMACWith(key []byte, purpose, userUUID, code string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write([]byte(userUUID))
	mac.Write([]byte{0})
	mac.Write([]byte(code))
	return mac.Sum(nil)
}

// issueToken stores a new token of purpose for a user, voiding the user's
// earlier tokens of that purpose, and returns the token to hand out.
func (m *Manager) issueToken(ctx context.Context, st Store, userUUID, purpose, detail string, ttl time.Duration) (string, error) {
	raw, err := m.randomBytes(tokenBytes)
	if err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	if err := m.storeToken(ctx, st, userUUID, purpose, detail, hashToken(token), ttl); err != nil {
		return "", err
	}
	return token, nil
}

// storeToken stores a token hash, voiding the user's earlier tokens of the
// purpose.
func (m *Manager) storeToken(ctx context.Context, st Store, userUUID, purpose, detail string, hash []byte, ttl time.Duration) error {
	id, err := m.newUUID()
	if err != nil {
		return err
	}
	now := m.now()
	return st.InTx(ctx, func(ctx context.Context, tx Store) error {
		if err := tx.DeleteOneTimeTokens(ctx, userUUID, purpose); err != nil {
			return err
		}
		return tx.InsertOneTimeToken(ctx, &OneTimeToken{
			ID: id, UserUUID: userUUID, Purpose: purpose, TokenHash: hash, Detail: detail,
			ExpiresAt: now.Add(ttl), CreatedAt: now,
		})
	})
}

// consumeToken finds a live token of purpose, marks it used and returns
// it; ErrInvalidToken for anything else (unknown, used, expired,
// malformed), all alike.
func (m *Manager) consumeToken(ctx context.Context, st Store, purpose, token string) (*OneTimeToken, error) {
	token, ok := parseToken(token)
	if !ok {
		return nil, ErrInvalidToken
	}
	t, err := m.liveToken(ctx, st, purpose, token)
	if err != nil {
		return nil, err
	}
	used, err := st.UseOneTimeToken(ctx, t.ID, m.now())
	if err != nil {
		return nil, err
	}
	if !used {
		return nil, ErrInvalidToken
	}
	return t, nil
}

// liveToken finds a token of purpose that is neither used nor expired.
func (m *Manager) liveToken(ctx context.Context, st Store, purpose, token string) (*OneTimeToken, error) {
	hash := hashToken(token)
	t, err := st.OneTimeTokenByHash(ctx, purpose, hash)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, err
	}
	if t.UsedAt != nil || !m.now().Before(t.ExpiresAt) || subtle.ConstantTimeCompare(t.TokenHash, hash) != 1 {
		return nil, ErrInvalidToken
	}
	return t, nil
}
