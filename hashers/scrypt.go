package hashers

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// scryptHash is a parsed scrypt hash: a PHC string
// ($scrypt$ln=<log2 N>,r=<r>,p=<p>$salt$hash, passlib's layout), or
// Firebase's variant (firebase set, see FirebaseParams).
type scryptHash struct {
	ln, r, p   int
	salt, hash []byte
	firebase   *firebaseKey
}

type firebaseKey struct{ separator, signer []byte }

// scryptMemory is the bytes x/crypto/scrypt allocates for N = 2^ln, r and
// p: its V of 128·r·N bytes, B of 128·r·p and XY of 256·r.
func scryptMemory(ln, r, p int) uint64 {
	return 128 * uint64(r) * ((uint64(1) << ln) + uint64(p) + 2)
}

// checkScrypt bounds scrypt's N = 2^ln, r and p.
func checkScrypt(ln, r, p int, l *Limits) error {
	if ln < 1 || ln > 30 || r < 1 || r > 64 || p < 1 || p > l.MaxThreads {
		return fmt.Errorf("%w: scrypt ln=%d, r=%d, p=%d (want 1..30, 1..64, 1..%d)", ErrParameters, ln, r, p, l.MaxThreads)
	}
	n := uint64(1) << ln
	if mem := 128 * n * uint64(r); mem > l.MaxMemory { // V, the bulk of scryptMemory
		return fmt.Errorf("%w: scrypt needs %d MiB, over %d MiB", ErrParameters, mem>>20, l.MaxMemory>>20)
	}
	if cost := n * uint64(r) * uint64(p); cost > l.MaxScryptCost {
		return fmt.Errorf("%w: scrypt N·r·p = %d is over %d", ErrParameters, cost, l.MaxScryptCost)
	}
	return nil
}

func parseScrypt(s string, l *Limits) (scheme, error) {
	p, err := parsePHC(s)
	if err != nil {
		return nil, err
	}
	if p.id != SchemeScrypt || p.version != -1 {
		return nil, fmt.Errorf("%w: scrypt: unexpected identifier or version", ErrMalformedHash)
	}
	if err := p.only("ln", "r", "p"); err != nil {
		return nil, err
	}
	h := &scryptHash{salt: p.salt, hash: p.hash}
	if h.ln, err = p.param("ln", -1); err != nil {
		return nil, err
	}
	if h.r, err = p.param("r", -1); err != nil {
		return nil, err
	}
	if h.p, err = p.param("p", -1); err != nil {
		return nil, err
	}
	if err := checkScrypt(h.ln, h.r, h.p, l); err != nil {
		return nil, err
	}
	if len(h.salt) < 8 || len(h.salt) > 64 || len(h.hash) < 16 || len(h.hash) > 128 {
		return nil, fmt.Errorf("%w: scrypt salt of %d and hash of %d bytes (want 8..64, 16..128)", ErrParameters, len(h.salt), len(h.hash))
	}
	return h, nil
}

func (h *scryptHash) name() string {
	if h.firebase != nil {
		return SchemeFirebaseScrypt
	}
	return SchemeScrypt
}

func (h *scryptHash) memory() uint64       { return scryptMemory(h.ln, h.r, h.p) }
func (h *scryptHash) weaker(*Options) bool { return true }

func (h *scryptHash) verify(pw []byte) bool {
	if h.firebase == nil {
		k, err := scrypt.Key(pw, h.salt, 1<<h.ln, h.r, h.p, len(h.hash))
		return err == nil && subtle.ConstantTimeCompare(k, h.hash) == 1
	}
	salt := append(append([]byte{}, h.salt...), h.firebase.separator...)
	k, err := scrypt.Key(pw, salt, 1<<h.ln, h.r, h.p, 32)
	if err != nil {
		return false
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return false
	}
	out := make([]byte, len(h.firebase.signer))
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(out, h.firebase.signer)
	return subtle.ConstantTimeCompare(out, h.hash) == 1
}

// FirebaseParams are the project-wide parameters of Firebase
// Authentication's modified scrypt, as its console shows them ("Password
// hash parameters"), base64 as there.
type FirebaseParams struct {
	SignerKey     string // base64_signer_key
	SaltSeparator string // base64_salt_separator
	Rounds        int    // rounds (scrypt's r)
	MemCost       int    // mem_cost (log2 of scrypt's N)
}

// Encode returns the hash this package stores for a Firebase user, from
// the user's salt and passwordHash (base64, as Firebase exports them):
//
//	$firebase-scrypt$r=<rounds>,ln=<mem_cost>$<salt>$<separator>$<signer key>$<hash>
//
// with each value in standard, padded base64. It checks the parameters
// against DefaultLimits.
func (f FirebaseParams) Encode(salt, passwordHash string) (string, error) {
	s := "$firebase-scrypt$r=" + strconv.Itoa(f.Rounds) + ",ln=" + strconv.Itoa(f.MemCost) +
		"$" + salt + "$" + f.SaltSeparator + "$" + f.SignerKey + "$" + passwordHash
	l := DefaultLimits
	if _, err := parseFirebase(s, &l); err != nil {
		return "", err
	}
	return s, nil
}

func parseFirebase(s string, l *Limits) (scheme, error) {
	if len(s) > maxEncodedLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedLen)
	}
	f := strings.Split(s, "$")
	if len(f) != 7 || f[0] != "" || f[1] != SchemeFirebaseScrypt {
		return nil, fmt.Errorf("%w: firebase-scrypt: want 6 fields", ErrMalformedHash)
	}
	h := &scryptHash{p: 1, firebase: &firebaseKey{}}
	for _, kv := range strings.Split(f[2], ",") {
		name, v, _ := strings.Cut(kv, "=")
		n, err := phcDecimal(v)
		if err != nil {
			return nil, fmt.Errorf("%w: firebase-scrypt %s: %w", ErrMalformedHash, name, err)
		}
		switch {
		case name == "r" && h.r == 0:
			h.r = n
		case name == "ln" && h.ln == 0:
			h.ln = n
		default:
			return nil, fmt.Errorf("%w: firebase-scrypt: parameter %q", ErrMalformedHash, name)
		}
	}
	if err := checkScrypt(h.ln, h.r, h.p, l); err != nil {
		return nil, err
	}
	dst := []*[]byte{&h.salt, &h.firebase.separator, &h.firebase.signer, &h.hash}
	for i, v := range f[3:] {
		b, err := base64.StdEncoding.Strict().DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("%w: firebase-scrypt field %d: %w", ErrMalformedHash, i+4, err)
		}
		*dst[i] = b
	}
	if len(h.salt) < 1 || len(h.salt) > 64 || len(h.firebase.separator) > 64 ||
		len(h.firebase.signer) < 16 || len(h.firebase.signer) > 128 || len(h.hash) != len(h.firebase.signer) {
		return nil, fmt.Errorf("%w: firebase-scrypt: field lengths", ErrParameters)
	}
	return h, nil
}
