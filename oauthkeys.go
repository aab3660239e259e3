package usermgmt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/usermgmt/usermgmt/oauth"
)

// The keys and secrets of third-party login: provider tokens sealed with
// AES-GCM, the per-flow secrets (state, browser cookie, PKCE verifier,
// nonce), and the redirect allow-list.

// oauthKit is what the Manager holds for third-party login.
type oauthKit struct {
	providers map[string]oauth.Provider
	names     []string
	aeads     []cipher.AEAD // the first seals; every one opens
	flowKey   []byte        // derives each flow's PKCE verifier and nonce
	client    *http.Client
	stateTTL  time.Duration
}

// newOAuthKit prepares the providers and keys of cfg.
func newOAuthKit(cfg Config) (*oauthKit, error) {
	k := &oauthKit{providers: map[string]oauth.Provider{}, client: cfg.OAuthHTTPClient, stateTTL: cfg.OAuthStateTTL}
	for _, p := range cfg.OAuthProviders {
		k.providers[p.Name()] = p
		k.names = append(k.names, p.Name())
	}
	// Without OAuthTokenKey the keys come from the JWT secret and, so that
	// stored provider tokens still open after a rotation, from each previous
	// one.
	secrets, salt := [][]byte{cfg.OAuthTokenKey}, []byte("usermgmt oauth token key")
	if len(cfg.OAuthTokenKey) == 0 {
		secrets, salt = append([][]byte{cfg.JWTSecret}, cfg.JWTPreviousSecrets...), []byte("usermgmt oauth key from JWT secret")
	}
	var err error
	if k.flowKey, err = hkdf.Key(sha256.New, secrets[0], salt, "flow secrets", 32); err != nil {
		return nil, fmt.Errorf("usermgmt: derive oauth flow key: %w", err)
	}
	for _, secret := range secrets {
		tokenKey, err := hkdf.Key(sha256.New, secret, salt, "provider tokens", 32)
		if err != nil {
			return nil, fmt.Errorf("usermgmt: derive oauth token key: %w", err)
		}
		block, err := aes.NewCipher(tokenKey)
		if err != nil {
			return nil, fmt.Errorf("usermgmt: oauth token cipher: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("usermgmt: oauth token cipher: %w", err)
		}
		k.aeads = append(k.aeads, aead)
	}
	return k, nil
}

// validateOAuth checks the third-party login settings of c.
func (c Config) validateOAuth() []error {
	var errs []error
	seen := map[string]bool{}
	for i, p := range c.OAuthProviders {
		switch {
		case p == nil:
			errs = append(errs, fmt.Errorf("OAuthProviders[%d] is nil", i))
		case !oauth.ValidName(p.Name()):
			errs = append(errs, fmt.Errorf("OAuthProviders[%d] has an invalid name %q", i, p.Name()))
		case seen[p.Name()]:
			errs = append(errs, fmt.Errorf("OAuthProviders: %q appears twice", p.Name()))
		}
		if p != nil {
			seen[p.Name()] = true
		}
	}
	if n := len(c.OAuthTokenKey); n != 0 && n < 16 {
		errs = append(errs, errors.New("OAuthTokenKey must be at least 16 bytes"))
	}
	if c.OAuthStateTTL < 0 {
		errs = append(errs, errors.New("OAuthStateTTL must not be negative"))
	}
	for _, e := range c.OAuthRedirectAllowList {
		if _, ok := parseAllowEntry(e); !ok {
			errs = append(errs, fmt.Errorf("OAuthRedirectAllowList: %q is not an absolute http(s) URL", e))
		}
	}
	return errs
}

// flowSecretLen is the size of every flow secret (state, cookie, ticket).
const flowSecretLen = 32

// parseFlowSecret reads a flow secret: the unpadded base64url encoding of
// exactly 32 bytes. It is the parser of the state and cookie values a
// browser sends back.
func parseFlowSecret(s string) ([]byte, error) {
	if len(s) != base64.RawURLEncoding.EncodedLen(flowSecretLen) {
		return nil, ErrOAuthState
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != flowSecretLen {
		return nil, ErrOAuthState
	}
	return b, nil
}

// newFlowSecret returns a fresh flow secret, encoded.
func (m *Manager) newFlowSecret() (string, error) {
	b, err := m.randomBytes(flowSecretLen)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// hashSecret is the stored form of a flow secret.
func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// flowDerived returns a flow's PKCE verifier or nonce (label), derived from
// its cookie and state: nothing secret is stored, and only the browser that
// holds the cookie can finish the flow.
func (k *oauthKit) flowDerived(label, cookie, state string) string {
	mac := hmac.New(sha256.New, k.flowKey)
	mac.Write([]byte(label + "\x00" + cookie + "\x00" + state))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// sealedToken is the plaintext of a sealed provider token.
type sealedToken struct {
	AccessToken  string    `json:"a"`
	TokenType    string    `json:"t,omitempty"`
	RefreshToken string    `json:"r,omitempty"`
	Expiry       time.Time `json:"e,omitzero"`
}

// sealVersion prefixes every sealed token.
const sealVersion = 1

// sealToken encrypts tok, bound to the provider's account.
func (m *Manager) sealToken(tok *oauth2.Token, provider, subject string) ([]byte, error) {
	plain, err := json.Marshal(sealedToken{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry})
	if err != nil {
		return nil, fmt.Errorf("usermgmt: seal token: %w", err)
	}
	aead := m.oauth.aeads[0]
	nonce, err := m.randomBytes(aead.NonceSize())
	if err != nil {
		return nil, err
	}
	out := append([]byte{sealVersion}, nonce...)
	return aead.Seal(out, nonce, plain, []byte(provider+"\x00"+subject)), nil
}

// openToken decrypts a token sealed by sealToken for the same account.
func (m *Manager) openToken(sealed []byte, provider, subject string) (*oauth2.Token, error) {
	ns := m.oauth.aeads[0].NonceSize()
	if len(sealed) < 1+ns || sealed[0] != sealVersion {
		return nil, errors.New("usermgmt: sealed provider token is malformed")
	}
	var plain []byte
	err := errors.New("no key")
	for _, aead := range m.oauth.aeads { // the current key, then the previous ones
		if plain, err = aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], []byte(provider+"\x00"+subject)); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("usermgmt: open provider token: %w", err)
	}
	var st sealedToken
	if err := json.Unmarshal(plain, &st); err != nil {
		return nil, fmt.Errorf("usermgmt: open provider token: %w", err)
	}
	return &oauth2.Token{AccessToken: st.AccessToken, TokenType: st.TokenType, RefreshToken: st.RefreshToken, Expiry: st.Expiry}, nil
}

// allowEntry is one parsed entry of the redirect allow-list.
type allowEntry struct{ scheme, host, path string }

// parseAllowEntry reads an allow-list entry: an absolute http(s) URL
// without user info, query or fragment.
func parseAllowEntry(s string) (allowEntry, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return allowEntry{}, false
	}
	return allowEntry{scheme: u.Scheme, host: strings.ToLower(u.Host), path: u.Path}, true
}

// maxRedirectLength bounds a redirect target.
const maxRedirectLength = 2048

// oauthRedirectAllowed reports whether a login may end by redirecting to
// target: an absolute http(s) URL without user info or fragment, with a
// clean path, whose scheme and host are those of an entry of
// Config.OAuthRedirectAllowList and whose path is the entry's or below it
// (an entry whose path is empty or "/" allows any path).
func (m *Manager) oauthRedirectAllowed(target string) bool {
	if target == "" || len(target) > maxRedirectLength || strings.ContainsAny(target, "\\\x00\r\n\t ") {
		return false
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Fragment != "" || strings.HasSuffix(target, "#") || u.Opaque != "" {
		return false
	}
	if u.Path != "" && path.Clean(u.Path) != u.Path && path.Clean(u.Path)+"/" != u.Path {
		return false
	}
	host := strings.ToLower(u.Host)
	for _, raw := range m.cfg.OAuthRedirectAllowList {
		e, ok := parseAllowEntry(raw)
		if !ok || e.scheme != u.Scheme || e.host != host {
			continue
		}
		if e.path == "" || e.path == "/" || u.Path == e.path ||
			strings.HasPrefix(u.Path, strings.TrimSuffix(e.path, "/")+"/") {
			return true
		}
	}
	return false
}
