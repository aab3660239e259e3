package jwtkeys

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// A Set is the keys of a service's access tokens: exactly one signs new
// tokens, and every one (the signing key included) verifies. A Set is
// immutable and safe for concurrent use.
//
// Rotation is three Sets in turn, each deployed to every instance: the
// current key signing and the next one verify-only (it is published, so
// verifiers learn it); after the JWKS cache time, the next key signing and
// the old one verify-only; after the longest access-token lifetime, the
// old one removed.
type Set struct {
	signer *Key
	keys   []*Key // the signer first
	byID   map[string]*Key
	algs   []string
	jwks   []byte
}

// NewSet returns the Set where signing signs and verifyOnly keys (public or
// private; a private half is never used) only verify. Two keys with one id
// are an error, as is a signing key without a private half.
func NewSet(signing *Key, verifyOnly ...*Key) (*Set, error) {
	if signing == nil {
		return nil, errors.New("jwtkeys: a key set needs a signing key")
	}
	if !signing.CanSign() {
		return nil, fmt.Errorf("jwtkeys: the signing key %s is a public key alone; give its private key", signing.ID())
	}
	s := &Set{signer: signing, byID: map[string]*Key{}}
	for i, k := range append([]*Key{signing}, verifyOnly...) {
		if k == nil {
			return nil, fmt.Errorf("jwtkeys: verify-only key %d is nil", i-1)
		}
		if i > 0 {
			k = k.VerifyOnly()
		}
		if _, dup := s.byID[k.ID()]; dup {
			return nil, fmt.Errorf("jwtkeys: the key %s appears twice in the set", k.ID())
		}
		s.byID[k.ID()] = k
		s.keys = append(s.keys, k)
		if !slices.Contains(s.algs, k.Algorithm()) {
			s.algs = append(s.algs, k.Algorithm())
		}
	}
	var err error
	if s.jwks, err = json.Marshal(s.JWKS()); err != nil {
		return nil, fmt.Errorf("jwtkeys: encode the key set: %w", err)
	}
	return s, nil
}

// Signer returns the key that signs.
func (s *Set) Signer() *Key { return s.signer }

// Lookup returns the key whose id is kid.
func (s *Set) Lookup(kid string) (*Key, bool) {
	k, ok := s.byID[kid]
	return k, ok
}

// Keys returns every key, the signing one first.
func (s *Set) Keys() []*Key { return slices.Clone(s.keys) }

// Algorithms returns the algorithms of the set's keys, the signer's first.
func (s *Set) Algorithms() []string { return slices.Clone(s.algs) }

// HasPublic reports whether the set has a public key to publish.
func (s *Set) HasPublic() bool {
	for _, k := range s.keys {
		if !k.Symmetric() {
			return true
		}
	}
	return false
}

// JWK is one public key as RFC 7517 writes it (the members of Ed25519, EC
// and RSA keys; empty ones are left out).
type JWK struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// JWKSet is a JSON Web Key Set.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// JWK returns the public half of the key; false for a secret.
func (k *Key) JWK() (JWK, bool) {
	if k.jwk == nil {
		return JWK{}, false
	}
	return JWK{
		Kty: k.jwk["kty"], Use: "sig", Alg: k.alg, Kid: k.id,
		Crv: k.jwk["crv"], X: k.jwk["x"], Y: k.jwk["y"], N: k.jwk["n"], E: k.jwk["e"],
	}, true
}

// JWKS returns the public halves of the set's keys (secrets are never
// published), the signing key first.
func (s *Set) JWKS() JWKSet {
	set := JWKSet{Keys: []JWK{}}
	for _, k := range s.keys {
		if j, ok := k.JWK(); ok {
			set.Keys = append(set.Keys, j)
		}
	}
	return set
}

// MarshalJWKS returns the JSON encoding of JWKS, computed once.
func (s *Set) MarshalJWKS() []byte { return slices.Clone(s.jwks) }
