// Package jwtkeys holds the keys that sign and verify access tokens: HS256
// secrets and EdDSA (Ed25519), ES256 (P-256) and RS256 (RSA, 2048 bits or
// more) key pairs, each with a stable key id, grouped in a Set where
// exactly one key signs and every key verifies.
//
// A public key's id is its RFC 7638 thumbprint, so every instance that
// loads the same key agrees on it, and a verifier reading the JSON Web Key
// Set (Set.MarshalJWKS) finds the key a token names in its "kid" header.
//
// The package is a leaf: it imports only the standard library, so a second
// service can use it to load the same PEM files.
package jwtkeys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// The JWS algorithms ("alg") a Key can have.
const (
	HS256 = "HS256" // HMAC with SHA-256, a shared secret
	EdDSA = "EdDSA" // Ed25519
	ES256 = "ES256" // ECDSA on P-256 with SHA-256
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
)

// Bounds of the keys a Key accepts.
const (
	// MinSecretBytes is the shortest HS256 secret.
	MinSecretBytes = 16
	// MinRSABits and MaxRSABits bound an RSA modulus.
	MinRSABits = 2048
	MaxRSABits = 8192
)

// ErrUnsupportedKey is returned (wrapped) for a key of a type, curve or
// size this package does not sign with.
var ErrUnsupportedKey = errors.New("jwtkeys: unsupported key")

// A Key is one signing or verification key. Build one with Secret,
// FromPrivate, FromPublic, ParsePEM or Generate; a Key is immutable.
type Key struct {
	id      string
	alg     string
	secret  []byte            // HS256
	private crypto.Signer     // nil for a public key alone
	public  crypto.PublicKey  // nil for HS256
	jwk     map[string]string // the public members (RFC 7517), nil for HS256
}

// ID returns the key's "kid": the RFC 7638 SHA-256 thumbprint of a public
// key, or for a secret an identifier derived from it that reveals nothing
// of it.
func (k *Key) ID() string { return k.id }

// Algorithm returns the JWS "alg" the key is used with.
func (k *Key) Algorithm() string { return k.alg }

// Symmetric reports whether the key is an HS256 secret (it is then never
// published).
func (k *Key) Symmetric() bool { return k.secret != nil }

// CanSign reports whether the key holds what signing needs: a secret or a
// private key.
func (k *Key) CanSign() bool { return k.secret != nil || k.private != nil }

// SigningKey returns what a JWS library signs with: the secret ([]byte),
// an ed25519.PrivateKey, a *ecdsa.PrivateKey or a *rsa.PrivateKey; nil for
// a public key alone.
func (k *Key) SigningKey() any {
	if k.secret != nil {
		return k.secret
	}
	if k.private == nil {
		return nil
	}
	return k.private
}

// VerificationKey returns what a JWS library verifies with: the secret
// ([]byte), an ed25519.PublicKey, a *ecdsa.PublicKey or a *rsa.PublicKey.
func (k *Key) VerificationKey() any {
	if k.secret != nil {
		return k.secret
	}
	return k.public
}

// Public returns the public key (nil for a secret).
func (k *Key) Public() crypto.PublicKey { return k.public }

// Secret returns an HS256 key for secret, at least MinSecretBytes long. Its
// id is the first 8 bytes, in hex, of HMAC-SHA256(secret, "usermgmt key id").
func Secret(secret []byte) (*Key, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("jwtkeys: an HS256 secret must be at least %d bytes", MinSecretBytes)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("usermgmt key id"))
	return &Key{id: hex.EncodeToString(mac.Sum(nil)[:8]), alg: HS256, secret: append([]byte(nil), secret...)}, nil
}

// FromPrivate returns the key of a private key: an ed25519.PrivateKey, a
// *ecdsa.PrivateKey on P-256 or a *rsa.PrivateKey of MinRSABits to
// MaxRSABits bits.
func FromPrivate(priv crypto.Signer) (*Key, error) {
	switch p := priv.(type) {
	case ed25519.PrivateKey:
		if len(p) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: an Ed25519 private key has %d bytes, not %d", ErrUnsupportedKey, ed25519.PrivateKeySize, len(p))
		}
	case *ed25519.PrivateKey:
		if p == nil {
			return nil, fmt.Errorf("%w: nil key", ErrUnsupportedKey)
		}
		return FromPrivate(*p)
	case *ecdsa.PrivateKey:
		if p == nil {
			return nil, fmt.Errorf("%w: nil key", ErrUnsupportedKey)
		}
	case *rsa.PrivateKey:
		if p == nil {
			return nil, fmt.Errorf("%w: nil key", ErrUnsupportedKey)
		}
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%w: invalid RSA key: %w", ErrUnsupportedKey, err)
		}
	case nil:
		return nil, fmt.Errorf("%w: nil key", ErrUnsupportedKey)
	default:
		return nil, fmt.Errorf("%w: private key of type %T", ErrUnsupportedKey, priv)
	}
	k, err := FromPublic(priv.Public())
	if err != nil {
		return nil, err
	}
	k.private = priv
	return k, nil
}

// FromPublic returns a verify-only key for a public key: an
// ed25519.PublicKey, a *ecdsa.PublicKey on P-256 or a *rsa.PublicKey of
// MinRSABits to MaxRSABits bits.
func FromPublic(pub crypto.PublicKey) (*Key, error) {
	k := &Key{public: pub}
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: an Ed25519 public key has %d bytes, not %d", ErrUnsupportedKey, ed25519.PublicKeySize, len(p))
		}
		k.public = append(ed25519.PublicKey(nil), p...)
		k.alg = EdDSA
		k.jwk = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(p)}
	case *ecdsa.PublicKey:
		if p == nil || p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%w: an ECDSA key must be on P-256 (ES256)", ErrUnsupportedKey)
		}
		raw, err := p.Bytes()
		if err != nil || len(raw) != 65 {
			return nil, fmt.Errorf("%w: invalid P-256 public key", ErrUnsupportedKey)
		}
		k.alg = ES256
		k.jwk = map[string]string{"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:])}
	case *rsa.PublicKey:
		if p == nil || p.N == nil {
			return nil, fmt.Errorf("%w: nil RSA key", ErrUnsupportedKey)
		}
		if bits := p.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return nil, fmt.Errorf("%w: an RSA key must have %d to %d bits, not %d", ErrUnsupportedKey, MinRSABits, MaxRSABits, bits)
		}
		if p.E < 3 || p.E%2 == 0 {
			return nil, fmt.Errorf("%w: invalid RSA public exponent", ErrUnsupportedKey)
		}
		k.alg = RS256
		k.jwk = map[string]string{"kty": "RSA", "n": b64(p.N.Bytes()), "e": b64(big.NewInt(int64(p.E)).Bytes())}
	case nil:
		return nil, fmt.Errorf("%w: nil key", ErrUnsupportedKey)
	default:
		return nil, fmt.Errorf("%w: public key of type %T", ErrUnsupportedKey, pub)
	}
	k.id = thumbprint(k.jwk)
	return k, nil
}

// VerifyOnly returns the key without its private half (a secret stays as
// it is: it cannot be split).
func (k *Key) VerifyOnly() *Key {
	if k.secret != nil || k.private == nil {
		return k
	}
	c := *k
	c.private = nil
	return &c
}

// Generate makes a new key pair for alg (EdDSA, ES256 or RS256, 3072 bits)
// from rand (nil: crypto/rand).
func Generate(alg string, rand io.Reader) (*Key, error) {
	var (
		priv crypto.Signer
		err  error
	)
	if rand == nil {
		rand = cryptorand.Reader
	}
	switch alg {
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand)
	case RS256:
		priv, err = rsa.GenerateKey(rand, 3072)
	default:
		return nil, fmt.Errorf("%w: cannot generate a key for %q (EdDSA, ES256 or RS256)", ErrUnsupportedKey, alg)
	}
	if err != nil {
		return nil, fmt.Errorf("jwtkeys: generate %s key: %w", alg, err)
	}
	return FromPrivate(priv)
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of a public JWK: its
// required members, in lexicographic order, without white space.
func thumbprint(jwk map[string]string) string {
	var members []string
	switch jwk["kty"] {
	case "OKP":
		members = []string{"crv", "kty", "x"}
	case "EC":
		members = []string{"crv", "kty", "x", "y"}
	case "RSA":
		members = []string{"e", "kty", "n"}
	}
	b := []byte{'{'}
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		// Every value is base64url or a fixed name: nothing to escape.
		b = fmt.Appendf(b, "%q:%q", m, jwk[m])
	}
	b = append(b, '}')
	sum := sha256.Sum256(b)
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
