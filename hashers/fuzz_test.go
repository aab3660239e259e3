package hashers

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

// FuzzPHC: the PHC parser never panics, and what it accepts re-encodes
// from its parts.
func FuzzPHC(f *testing.F) {
	for _, v := range readVectors(f) {
		f.Add(v.hash)
	}
	f.Add("$argon2id$v=19$m=,t=2$$")
	f.Add("$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		if err != nil {
			return
		}
		if p.id == "" || len(s) > maxEncodedLen {
			t.Fatalf("accepted %q as %+v", s, p)
		}
	})
}

// FuzzParse: every imported-hash parser (through ValidateHash, which
// dispatches on the prefix) never panics; a hash it accepts has bounded
// cost, so Compare ends quickly with a match or ErrWrongPassword.
func FuzzParse(f *testing.F) {
	for _, v := range readVectors(f) {
		f.Add(v.hash)
	}
	for _, s := range []string{"$2b$31$", "pbkdf2_sha256$1$a$", "$scrypt$ln=1,r=1,p=1$QUFBQUFBQUE$QUFBQUFBQUFBQUFBQUFBQQ",
		"$firebase-scrypt$r=1,ln=1$QQ==$$QUFBQUFBQUFBQUFBQUFBQQ==$QUFBQUFBQUFBQUFBQUFBQQ=="} {
		f.Add(s)
	}
	h, err := New(Options{Algorithm: Bcrypt, BcryptCost: 4, Argon2: Argon2Params{MemoryKiB: 1024, Time: 1}, Limits: Limits{MaxMemory: 8 << 20, MaxArgon2Time: 2, MaxBcryptCost: 6, MaxPBKDF2Iter: 50_000, MaxScryptCost: 1 << 14}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := h.ValidateHash(s)
		if err != nil {
			if !errors.Is(err, ErrUnknownFormat) && !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrParameters) {
				t.Fatalf("ValidateHash(%q) = %v: no sentinel", s, err)
			}
			return
		}
		start := time.Now()
		cerr := h.Compare(context.Background(), s, "password")
		if cerr != nil && !errors.Is(cerr, usermgmt.ErrWrongPassword) {
			t.Fatalf("Compare(%q) after a valid parse = %v", s, cerr)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Compare(%q) took %v", s, d)
		}
	})
}
