package hashers

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"testing"

	"golang.org/x/crypto/scrypt"

	"github.com/usermgmt/usermgmt"
)

const benchPassword = "Bench-Pass-2026!"

// benchHashes are one stored hash of benchPassword per format, at the
// defaults a host meets: bcrypt at the library's cost 12, argon2id at
// OWASP's m=19456,t=2,p=1, scrypt at passlib's ln=16,r=8,p=1 and Django
// 5.2's pbkdf2_sha256 of 1,000,000 iterations.
func benchHashes(b *testing.B) map[string]string {
	b.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for name, o := range map[string]Options{
		"bcrypt-12":          {Algorithm: Bcrypt, BcryptCost: usermgmt.DefaultBcryptCost},
		"argon2id-m19456-t2": {Algorithm: Argon2id},
	} {
		h, err := New(o)
		if err != nil {
			b.Fatal(err)
		}
		if out[name], err = h.Hash(ctx, benchPassword); err != nil {
			b.Fatal(err)
		}
	}
	salt := []byte("sixteen byte slt")
	k, err := scrypt.Key([]byte(benchPassword), salt, 1<<16, 8, 1, 32)
	if err != nil {
		b.Fatal(err)
	}
	out["scrypt-ln16-r8"] = fmt.Sprintf("$scrypt$ln=16,r=8,p=1$%s$%s", phcEncode(salt), phcEncode(k))
	const djangoSalt = "Qy4bBSdbpR6mLm9ZBjiL2r"
	dk, err := pbkdf2.Key(sha256.New, benchPassword, []byte(djangoSalt), 1_000_000, 32)
	if err != nil {
		b.Fatal(err)
	}
	out["pbkdf2-1000000"] = fmt.Sprintf("pbkdf2_sha256$1000000$%s$%s", djangoSalt, base64.StdEncoding.EncodeToString(dk))
	return out
}

// BenchmarkVerify is one login's password check per format, through
// Compare (parse, semaphores, computation).
func BenchmarkVerify(b *testing.B) {
	h, err := New(Options{Algorithm: Argon2id, MaxConcurrent: 1})
	if err != nil {
		b.Fatal(err)
	}
	hashes := benchHashes(b)
	for _, name := range []string{"bcrypt-12", "argon2id-m19456-t2", "scrypt-ln16-r8", "pbkdf2-1000000"} {
		hash := hashes[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := h.Compare(context.Background(), hash, benchPassword); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHash is the hashing of a new password with each algorithm New
// hashes with, at its defaults.
func BenchmarkHash(b *testing.B) {
	for name, o := range map[string]Options{
		"bcrypt-12":          {Algorithm: Bcrypt, BcryptCost: usermgmt.DefaultBcryptCost, MaxConcurrent: 1},
		"argon2id-m19456-t2": {Algorithm: Argon2id, MaxConcurrent: 1},
	} {
		h, err := New(o)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := h.Hash(context.Background(), benchPassword); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
