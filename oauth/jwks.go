package oauth

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

// KeySet is an issuer's RSA signing keys, by key ID.
type KeySet struct {
	keys map[string]*rsa.PublicKey
}

// Limits on the keys ParseKeySet accepts.
const (
	minRSABits = 2048
	maxRSABits = 8192
	maxKeys    = 100
)

// ParseKeySet reads a JSON Web Key Set (RFC 7517), keeping its RSA keys
// meant for signatures ("use" absent or "sig", "alg" absent or RS256) of
// 2048 to 8192 bits. Other keys are skipped; a malformed document or RSA
// key is an error matching ErrDiscovery.
func ParseKeySet(data []byte) (*KeySet, error) {
	var doc struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			Alg string `json:"alg"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: key set: %w", ErrDiscovery, err)
	}
	if len(doc.Keys) > maxKeys {
		return nil, fmt.Errorf("%w: key set of %d keys", ErrDiscovery, len(doc.Keys))
	}
	ks := &KeySet{keys: map[string]*rsa.PublicKey{}}
	for _, k := range doc.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: modulus: %w", ErrDiscovery, k.Kid, err)
		}
		e, err := base64.RawURLEncoding.DecodeString(k.E)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: exponent: %w", ErrDiscovery, k.Kid, err)
		}
		mod := new(big.Int).SetBytes(n)
		if bits := mod.BitLen(); bits < minRSABits || bits > maxRSABits {
			return nil, fmt.Errorf("%w: key %q: %d-bit modulus", ErrDiscovery, k.Kid, bits)
		}
		if len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("%w: key %q: bad exponent", ErrDiscovery, k.Kid)
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 || exp%2 == 0 {
			return nil, fmt.Errorf("%w: key %q: bad exponent", ErrDiscovery, k.Kid)
		}
		ks.keys[k.Kid] = &rsa.PublicKey{N: mod, E: exp}
	}
	return ks, nil
}

// Key returns the key with the given ID; a set of exactly one key also
// answers a token that names none.
func (ks *KeySet) Key(kid string) (*rsa.PublicKey, bool) {
	if k, ok := ks.keys[kid]; ok {
		return k, true
	}
	if kid == "" && len(ks.keys) == 1 {
		for _, k := range ks.keys {
			return k, true
		}
	}
	return nil, false
}

// Len returns the number of keys.
func (ks *KeySet) Len() int { return len(ks.keys) }
