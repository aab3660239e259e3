package hashers

import (
	"crypto/subtle"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
)

// argon2Hash is a parsed argon2id or argon2i PHC string of version 19.
type argon2Hash struct {
	id         string
	m, t       uint32
	p          uint8
	salt, hash []byte
}

func parseArgon2(s string, l *Limits) (scheme, error) {
	p, err := parsePHC(s)
	if err != nil {
		return nil, err
	}
	if p.id != SchemeArgon2id && p.id != SchemeArgon2i {
		return nil, ErrUnknownFormat
	}
	if p.version != argon2.Version {
		return nil, fmt.Errorf("%w: argon2 version %d (want v=%d)", ErrParameters, p.version, argon2.Version)
	}
	if err := p.only("m", "t", "p"); err != nil {
		return nil, err
	}
	m, err := p.param("m", -1)
	if err != nil {
		return nil, err
	}
	t, err := p.param("t", -1)
	if err != nil {
		return nil, err
	}
	par, err := p.param("p", -1)
	if err != nil {
		return nil, err
	}
	switch {
	case par < 1 || par > l.MaxThreads || par > 255:
		return nil, fmt.Errorf("%w: argon2 p=%d is outside 1..%d", ErrParameters, par, l.MaxThreads)
	case m < 8*par || uint64(m)<<10 > l.MaxMemory:
		return nil, fmt.Errorf("%w: argon2 m=%d KiB is outside %d..%d", ErrParameters, m, 8*par, l.MaxMemory>>10)
	case t < 1 || t > int(l.MaxArgon2Time):
		return nil, fmt.Errorf("%w: argon2 t=%d is outside 1..%d", ErrParameters, t, l.MaxArgon2Time)
	case len(p.salt) < 8 || len(p.salt) > 64:
		return nil, fmt.Errorf("%w: argon2 salt of %d bytes (want 8..64)", ErrParameters, len(p.salt))
	case len(p.hash) < 12 || len(p.hash) > 128:
		return nil, fmt.Errorf("%w: argon2 hash of %d bytes (want 12..128)", ErrParameters, len(p.hash))
	}
	return &argon2Hash{id: p.id, m: uint32(m), t: uint32(t), p: uint8(par), salt: p.salt, hash: p.hash}, nil
}

func (a *argon2Hash) name() string   { return a.id }
func (a *argon2Hash) memory() uint64 { return uint64(a.m) << 10 }

func (a *argon2Hash) verify(pw []byte) bool {
	var k []byte
	if a.id == SchemeArgon2id {
		k = argon2.IDKey(pw, a.salt, a.t, a.m, a.p, uint32(len(a.hash)))
	} else {
		k = argon2.Key(pw, a.salt, a.t, a.m, a.p, uint32(len(a.hash)))
	}
	return subtle.ConstantTimeCompare(k, a.hash) == 1
}

func (a *argon2Hash) weaker(o *Options) bool {
	c := o.Argon2
	return a.m < c.MemoryKiB || a.t < c.Time || len(a.hash) < int(c.KeyLen)
}

// hashArgon2id hashes password with fresh salt into a PHC string.
func hashArgon2id(r io.Reader, password string, c Argon2Params) (string, error) {
	salt := make([]byte, c.SaltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("hashers: read salt: %w", err)
	}
	k := argon2.IDKey([]byte(password), salt, c.Time, c.MemoryKiB, c.Threads, c.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, c.MemoryKiB, c.Time, c.Threads, phcEncode(salt), phcEncode(k)), nil
}
