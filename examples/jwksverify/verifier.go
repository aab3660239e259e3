package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Verifier checks the access tokens of a usermgmt service with nothing but
// its public keys, read from its JWKS: the way any other service of the
// stack (in any language, with any JOSE library) trusts those tokens.
type Verifier struct {
	issuer, audience, jwksURL string
	client                    *http.Client
	// refetch bounds how often an unknown kid makes the Verifier fetch
	// the JWKS again (default minRefetch).
	refetch time.Duration

	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	expires time.Time // when the cached keys must be fetched again
	tried   time.Time // the last fetch, to bound refetches on an unknown kid
}

// Claims are what a verified token says: the registered claims (sub is
// the user's UUID) and the session.
type Claims struct {
	jwt.Claims
	SessionID string `json:"sid"`
}

// minRefetch bounds how often a token naming an unknown kid makes the
// Verifier fetch the JWKS again (the issuer may have promoted a new key).
const minRefetch = 30 * time.Second

// NewVerifier reads the issuer's discovery document
// (issuer + "/.well-known/openid-configuration") for its JWKS URL.
// audience, when not empty, is required in the tokens' "aud".
func NewVerifier(ctx context.Context, client *http.Client, issuer, audience string) (*Verifier, error) {
	var d struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if _, err := getJSON(ctx, client, strings.TrimRight(issuer, "/")+"/.well-known/openid-configuration", &d); err != nil {
		return nil, err
	}
	if d.Issuer != issuer || d.JWKSURI == "" {
		return nil, fmt.Errorf("discovery: issuer %q (want %q), jwks_uri %q", d.Issuer, issuer, d.JWKSURI)
	}
	return &Verifier{issuer: issuer, audience: audience, jwksURL: d.JWKSURI, client: client, refetch: minRefetch}, nil
}

// Verify checks a token's signature against the issuer's keys (chosen by
// its kid; its alg must be the key's) and its issuer, audience and times.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	kid := tok.Headers[0].KeyID
	keys, err := v.keysFor(ctx, kid)
	if err != nil {
		return nil, err
	}
	match := keys.Key(kid)
	if len(match) != 1 || match[0].Algorithm != tok.Headers[0].Algorithm {
		return nil, fmt.Errorf("no key %q for %s", kid, tok.Headers[0].Algorithm)
	}
	var c Claims
	if err := tok.Claims(match[0].Key, &c); err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	want := jwt.Expected{Issuer: v.issuer, Time: time.Now()}
	if v.audience != "" {
		want.AnyAudience = jwt.Audience{v.audience}
	}
	if err := c.ValidateWithLeeway(want, 5*time.Second); err != nil {
		return nil, err
	}
	if c.Subject == "" || c.Expiry == nil {
		return nil, errors.New("no sub or exp")
	}
	return &c, nil
}

// keysFor returns the cached keys, fetched again when they are older than
// the JWKS's max-age, or when kid is unknown and the last fetch is more
// than v.refetch ago.
func (v *Verifier) keysFor(ctx context.Context, kid string) (jose.JSONWebKeySet, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := time.Now()
	stale := now.After(v.expires)
	unknown := len(v.keys.Key(kid)) == 0 && now.Sub(v.tried) >= v.refetch
	if !stale && !unknown {
		return v.keys, nil
	}
	v.tried = now
	var keys jose.JSONWebKeySet
	h, err := getJSON(ctx, v.client, v.jwksURL, &keys)
	if err != nil {
		if len(v.keys.Keys) > 0 {
			return v.keys, nil // keep verifying with what we have
		}
		return jose.JSONWebKeySet{}, err
	}
	v.keys, v.expires = keys, now.Add(maxAge(h))
	return v.keys, nil
}

// maxAge reads Cache-Control's max-age (default 5 minutes).
func maxAge(h http.Header) time.Duration {
	for d := range strings.SplitSeq(h.Get("Cache-Control"), ",") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(d), "max-age="); ok {
			if n, err := strconv.Atoi(s); err == nil && n >= 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return 5 * time.Minute
}

func getJSON(ctx context.Context, client *http.Client, url string, out any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return resp.Header, nil
}
