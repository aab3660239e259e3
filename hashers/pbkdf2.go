package hashers

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// pbkdf2Hash is a parsed Django PBKDF2PasswordHasher hash:
// pbkdf2_sha256$<iterations>$<salt>$<base64 of the derived key>.
type pbkdf2Hash struct {
	iter       int
	salt, hash []byte
}

func parsePBKDF2(s string, l *Limits) (scheme, error) {
	f := strings.Split(s, "$")
	if len(f) != 4 || f[0] != SchemePBKDF2SHA256 {
		return nil, fmt.Errorf("%w: pbkdf2_sha256: want 4 fields", ErrMalformedHash)
	}
	iter, err := phcDecimal(f[1])
	if err != nil {
		return nil, fmt.Errorf("%w: pbkdf2_sha256 iterations: %w", ErrMalformedHash, err)
	}
	if iter < 1 || iter > l.MaxPBKDF2Iter {
		return nil, fmt.Errorf("%w: pbkdf2_sha256 iterations %d are outside 1..%d", ErrParameters, iter, l.MaxPBKDF2Iter)
	}
	if f[2] == "" || len(f[2]) > 128 {
		return nil, fmt.Errorf("%w: pbkdf2_sha256 salt of %d bytes", ErrMalformedHash, len(f[2]))
	}
	hash, err := base64.StdEncoding.Strict().DecodeString(f[3])
	if err != nil {
		return nil, fmt.Errorf("%w: pbkdf2_sha256 hash: %w", ErrMalformedHash, err)
	}
	if len(hash) < 16 || len(hash) > 64 {
		return nil, fmt.Errorf("%w: pbkdf2_sha256 hash of %d bytes (want 16..64)", ErrParameters, len(hash))
	}
	return &pbkdf2Hash{iter: iter, salt: []byte(f[2]), hash: hash}, nil
}

func (p *pbkdf2Hash) name() string         { return SchemePBKDF2SHA256 }
func (p *pbkdf2Hash) memory() uint64       { return 0 }
func (p *pbkdf2Hash) weaker(*Options) bool { return true }

func (p *pbkdf2Hash) verify(pw []byte) bool {
	k, err := pbkdf2.Key(sha256.New, string(pw), p.salt, p.iter, len(p.hash))
	return err == nil && subtle.ConstantTimeCompare(k, p.hash) == 1
}
