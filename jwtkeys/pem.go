package jwtkeys

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// MaxPEMBytes bounds the input of ParsePEM.
const MaxPEMBytes = 64 << 10

// ErrBadPEM is returned (wrapped) for input that is not one PEM block of a
// key this package reads.
var ErrBadPEM = errors.New("jwtkeys: bad PEM key")

// ParsePEM reads one key from a single PEM block:
//
//   - "PRIVATE KEY" (PKCS #8), "EC PRIVATE KEY" (SEC 1) or "RSA PRIVATE KEY"
//     (PKCS #1): a key that can sign;
//   - "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY" (PKCS #1) or "CERTIFICATE" (its
//     public key): a verify-only key.
//
// The key's type gives its algorithm (Ed25519 → EdDSA, P-256 → ES256, RSA →
// RS256). Anything else (an encrypted key, another curve, several blocks,
// text around the block) is an error that says what was found.
func ParsePEM(data []byte) (*Key, error) {
	if len(data) > MaxPEMBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBadPEM, MaxPEMBytes)
	}
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrBadPEM)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: more than one PEM block, or text after the %q block", ErrBadPEM, block.Type)
	}
	if len(block.Headers) != 0 {
		return nil, fmt.Errorf("%w: the %q block has headers (an encrypted key?)", ErrBadPEM, block.Type)
	}
	var (
		priv any
		pub  any
		err  error
	)
	if strings.HasSuffix(block.Type, "PRIVATE KEY") && len(block.Bytes) > maxPrivateDER {
		return nil, fmt.Errorf("%w: private key larger than an RSA key of %d bits", ErrUnsupportedKey, MaxRSABits)
	}
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%w: the key is encrypted; decrypt it first (openssl pkey -in FILE -out PLAIN)", ErrBadPEM)
	default:
		return nil, fmt.Errorf("%w: a %q block is not a key (want PRIVATE KEY, PUBLIC KEY, EC PRIVATE KEY, RSA PRIVATE KEY, RSA PUBLIC KEY or CERTIFICATE)", ErrBadPEM, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s block: %w", ErrBadPEM, block.Type, err)
	}
	if priv != nil {
		signer, ok := priv.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%w: private key of type %T", ErrUnsupportedKey, priv)
		}
		return FromPrivate(signer)
	}
	return FromPublic(pub)
}

// maxPrivateDER bounds a private key's DER before it is parsed (the RSA
// checks cost more with the size): an RSA key of MaxRSABits bits takes
// about 4.7 KB.
const maxPrivateDER = MaxRSABits / 8 * 6

// LoadPEMFile reads a key with ParsePEM from a file; errors name the file.
func LoadPEMFile(path string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwtkeys: read key: %w", err)
	}
	k, err := ParsePEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// MarshalPrivatePEM encodes the key's private half as a "PRIVATE KEY"
// (PKCS #8) block. A secret or a public key alone is an error.
func (k *Key) MarshalPrivatePEM() ([]byte, error) {
	if k.private == nil {
		return nil, errors.New("jwtkeys: the key has no private half")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.private)
	if err != nil {
		return nil, fmt.Errorf("jwtkeys: encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicPEM encodes the key's public half as a "PUBLIC KEY" (PKIX)
// block. A secret is an error.
func (k *Key) MarshalPublicPEM() ([]byte, error) {
	if k.public == nil {
		return nil, errors.New("jwtkeys: a secret has no public half")
	}
	der, err := x509.MarshalPKIXPublicKey(k.public)
	if err != nil {
		return nil, fmt.Errorf("jwtkeys: encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
