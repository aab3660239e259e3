package hashers

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// bcryptHash is a parsed $2a$, $2b$ or $2y$ hash (all one algorithm in
// OpenBSD's and Go's implementation; $2x$, crypt_blowfish's buggy
// variant, is refused).
type bcryptHash struct {
	encoded string
	cost    int
}

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func parseBcrypt(s string, l *Limits) (scheme, error) {
	// $2b$12$ + 22 characters of salt + 31 of hash.
	if len(s) != 60 || s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$' {
		return nil, fmt.Errorf("%w: bcrypt: want $2?$NN$ and 53 characters", ErrMalformedHash)
	}
	switch s[2] {
	case 'a', 'b', 'y':
	default:
		return nil, fmt.Errorf("%w: bcrypt: version 2%c", ErrUnknownFormat, s[2])
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return nil, fmt.Errorf("%w: bcrypt: cost %q", ErrMalformedHash, s[4:6])
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < bcrypt.MinCost || cost > l.MaxBcryptCost {
		return nil, fmt.Errorf("%w: bcrypt cost %d is outside %d..%d", ErrParameters, cost, bcrypt.MinCost, l.MaxBcryptCost)
	}
	for i := 7; i < len(s); i++ {
		if !inAlphabet(s[i]) {
			return nil, fmt.Errorf("%w: bcrypt: bad character at %d", ErrMalformedHash, i)
		}
	}
	return &bcryptHash{encoded: s, cost: cost}, nil
}

func inAlphabet(c byte) bool {
	for i := 0; i < len(bcryptAlphabet); i++ {
		if bcryptAlphabet[i] == c {
			return true
		}
	}
	return false
}

func (b *bcryptHash) name() string   { return SchemeBcrypt }
func (b *bcryptHash) memory() uint64 { return 0 }

// verify checks with Go's bcrypt, which compares in constant time and
// refuses passwords over 72 bytes (a mismatch here).
func (b *bcryptHash) verify(pw []byte) bool {
	return bcrypt.CompareHashAndPassword([]byte(b.encoded), pw) == nil
}

func (b *bcryptHash) weaker(o *Options) bool { return b.cost < o.BcryptCost }

func hashBcrypt(password string, cost int) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("hashers: bcrypt: %w", err)
	}
	return string(b), nil
}
