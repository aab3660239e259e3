package usermgmt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// TOTP secrets are stored sealed with AES-256-GCM under a key derived
// (HKDF-SHA256) from the JWT secret; the previous JWT secrets still open
// what they sealed. The stored form is "v1:" + base64(nonce || sealed),
// with the user's UUID as additional data, so a sealed secret copied to
// another user's row does not open.

const sealedSecretPrefix = "v1:"

// deriveKey derives a 32-byte key for one use from a secret.
func deriveKey(secret []byte, info string) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, secret, nil, info, 32)
	if err != nil {
		return nil, fmt.Errorf("usermgmt: derive key: %w", err)
	}
	return k, nil
}

// sealOTPSecret encrypts a TOTP secret for storage.
func (m *Manager) sealOTPSecret(userUUID, secret string) (string, error) {
	gcm, err := newGCM(m.otpKeys[0])
	if err != nil {
		return "", err
	}
	nonce, err := m.randomBytes(gcm.NonceSize())
	if err != nil {
		return "", err
	}
	out := gcm.Seal(nonce, nonce, []byte(secret), []byte(userUUID))
	return sealedSecretPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// openOTPSecret decrypts a stored TOTP secret; "" when none is stored.
func (m *Manager) openOTPSecret(userUUID, stored string) (string, error) {
	if stored == "" {
		return "", nil
	}
	body, ok := strings.CutPrefix(stored, sealedSecretPrefix)
	if !ok {
		return "", errors.New("usermgmt: TOTP secret is not sealed")
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil {
		return "", fmt.Errorf("usermgmt: TOTP secret: %w", err)
	}
	for _, k := range m.otpKeys {
		gcm, err := newGCM(k)
		if err != nil {
			return "", err
		}
		if len(raw) < gcm.NonceSize() {
			break
		}
		if plain, err := gcm.Open(nil, raw[:gcm.NonceSize()], raw[gcm.NonceSize():], []byte(userUUID)); err == nil {
			return string(plain), nil
		}
	}
	return "", errors.New("usermgmt: TOTP secret does not open with any key")
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("usermgmt: cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// newOTPSecret returns a fresh TOTP secret: 20 random bytes (160 bits, as
// RFC 4226 recommends) in unpadded base32.
func (m *Manager) newOTPSecret() (string, error) {
	b, err := m.randomBytes(20)
	if err != nil {
		return "", err
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), nil
}

// SealOTPSecret returns a TOTP secret (base32, any case, padding optional)
// sealed for the users row of userUUID, in the form the store keeps: for
// a tool that writes users rows itself, such as an import from another
// system. A secret that is not base32 of at least 10 bytes (80 bits) is
// ErrInvalidInput.
func (m *Manager) SealOTPSecret(userUUID, secret string) (string, error) {
	norm := strings.TrimRight(strings.ToUpper(strings.TrimSpace(secret)), "=")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(norm)
	if err != nil || len(raw) < 10 {
		return "", ErrInvalidInput.WithMessage("The TOTP secret is not base32 of at least 80 bits.")
	}
	return m.sealOTPSecret(userUUID, norm)
}
