// Package apikey gives users API keys (personal access tokens): long-lived
// credentials for scripts and services that act as their owner, within
// the scopes the owner chose.
//
// It is a feature over the usermgmt core: enable it with
//
//	keys := apikey.New(apikey.Config{})
//	m, err := usermgmt.New(cfg, usermgmt.WithFeature(keys))
//
// and httpadapter.New(m, ...) serves its routes under /user/me/api-keys
// (the caller's own) and /user/{uuid}/api-keys (policy resource
// "api_key"). The Manager's store must implement keystore.Store (store.DB
// does, from migration 0008): New fails otherwise.
//
// A key is "um_" and 32 random bytes in base64url (46 characters), shown
// once, when it is created. The store keeps its SHA-256 and its first
// PrefixLen characters, by which it is found in one indexed lookup; the
// hash is compared in constant time. A key authenticates wherever an
// access token does (usermgmt.Manager.Authenticate, so httpadapter's routes
// and its RequireAuth middleware), as "Authorization: Bearer um_..." or in
// the X-API-Key header.
//
// The rules: a key's scopes are "resource:action" pairs of the Manager's
// policy, and Authorize grants a key's caller only what both the owner's
// roles and the scopes allow; a key cannot manage API keys, passwords,
// second factors or sessions (usermgmt.ErrSessionRequired). A revoked or
// expired key, and the key of a banned or deleted owner, stops working at
// once on the instance that made the change and within the Manager's
// CacheTTL (2 s) on the others. Each key's use is rate limited (Config.Rate)
// and its last use (time and client IP) recorded and audited at most once
// per Config.UsageInterval.
package apikey

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey/keystore"
)

// Audit actions of the API-key feature.
const (
	AuditCreated = "api-key-created"
	AuditRevoked = "api-key-revoked"
	// AuditUsed records a key's use, with the client's IP, at most once
	// per Config.UsageInterval.
	AuditUsed = "api-key-used"
)

// The key format.
const (
	// KeyPrefix starts every key, so that secret scanners spot it.
	KeyPrefix = "um_"
	// SecretBytes is the number of random bytes of a key.
	SecretBytes = 32
	// KeyLen is the length of a key: KeyPrefix and the secret in
	// base64url without padding.
	KeyLen = len(KeyPrefix) + (SecretBytes*8+5)/6
	// PrefixLen is the length of the key's start that is stored and shown
	// (KeyPrefix and 9 characters of the secret: 54 bits).
	PrefixLen = len(KeyPrefix) + 9
)

// Defaults and limits.
const (
	// DefaultUsageInterval is how often a key's last use is written.
	DefaultUsageInterval = time.Minute
	// DefaultMaxKeys bounds the keys of one user.
	DefaultMaxKeys = 25
	// MaxName bounds a key's name, in characters.
	MaxName = 64
	// MaxScopes bounds the scopes of one key.
	MaxScopes = 64
	// MaxExpiresIn bounds a key's lifetime.
	MaxExpiresIn = 10 * 365 * 24 * time.Hour
)

// DefaultRate is the default limit of one key's use.
var DefaultRate = usermgmt.Rate{Limit: 600, Window: time.Minute}

// Errors of the API-key feature: each a 4xx with a stable code.
var (
	// ErrInvalidKey is a key that is malformed, unknown, revoked or
	// expired, or whose owner is banned or gone: one answer for all, so
	// that it tells an attacker nothing. It is the core's
	// usermgmt.ErrInvalidAPIKey, which X-API-Key answers too.
	ErrInvalidKey = usermgmt.ErrInvalidAPIKey
	// ErrUnknownScope is a scope that is not a resource:action pair of
	// the policy (its "scope" parameter names it).
	ErrUnknownScope = usermgmt.NewError(http.StatusUnprocessableEntity, "api_key_scope_unknown", "An API key scope is not a resource:action permission of the policy.")
	// ErrInvalidName is a name empty, too long or with control characters.
	ErrInvalidName = usermgmt.NewError(http.StatusUnprocessableEntity, "api_key_name_invalid", "An API key needs a name of at most 64 characters, without control characters.")
	// ErrInvalidExpiry is an expires_in that is not a positive number of
	// seconds up to ten years.
	ErrInvalidExpiry = usermgmt.NewError(http.StatusUnprocessableEntity, "api_key_expiry_invalid", "expires_in must be a positive number of seconds, at most ten years.")
	// ErrTooMany is a key beyond Config.MaxKeys.
	ErrTooMany = usermgmt.NewError(http.StatusConflict, "api_key_limit_reached", "This account has the most API keys allowed.")
	// ErrNotFound is a key the user does not have.
	ErrNotFound = usermgmt.NewError(http.StatusNotFound, "api_key_not_found", "API key not found.")
)

// Config configures the feature. Zero values take the defaults.
type Config struct {
	// Rate limits the use of each key (DefaultRate when zero), counted in
	// the Manager's Limiter, so shared by the instances of a shared
	// limiter. Unlimited turns it off.
	Rate      usermgmt.Rate
	Unlimited bool
	// UsageInterval is how often a key's last use (time, IP) is written
	// and audited: at most once per interval and instance.
	// DefaultUsageInterval when zero.
	UsageInterval time.Duration
	// MaxKeys bounds the keys of one user (DefaultMaxKeys when zero).
	MaxKeys int
}

// Keys is the feature: pass it to usermgmt.WithFeature.
type Keys struct {
	cfg   Config
	m     *usermgmt.Manager
	cache *keyCache
	// used holds when each key's use was last written by this instance;
	// usedMu makes its check and update one step.
	usedMu sync.Mutex
	used   *lru.Cache[string, time.Time]
}

// New returns the feature, to enable with usermgmt.WithFeature.
func New(cfg Config) *Keys { return &Keys{cfg: cfg} }

// FeatureName implements usermgmt.Feature.
func (k *Keys) FeatureName() string { return "apikey" }

// InitFeature implements usermgmt.Feature: it checks the store and takes
// the defaults.
func (k *Keys) InitFeature(m *usermgmt.Manager) error {
	if _, err := usermgmt.NeedStore[keystore.Store](m.Store(), k.FeatureName()); err != nil {
		return err
	}
	if k.cfg.Rate == (usermgmt.Rate{}) {
		k.cfg.Rate = DefaultRate
	}
	if !k.cfg.Unlimited && !k.cfg.Rate.Valid() {
		return fmt.Errorf("apikey: Config.Rate %+v: limit and window must be positive", k.cfg.Rate)
	}
	if k.cfg.UsageInterval <= 0 {
		k.cfg.UsageInterval = DefaultUsageInterval
	}
	if k.cfg.MaxKeys <= 0 {
		k.cfg.MaxKeys = DefaultMaxKeys
	}
	mc := m.Config()
	k.cache = newKeyCache(mc.CacheSize, mc.CacheTTL)
	used, err := lru.New[string, time.Time](max(mc.CacheSize, 1))
	if err != nil {
		return fmt.Errorf("apikey: %w", err)
	}
	k.m, k.used = m, used
	return nil
}

// Scopes returns the scope names a key may carry: the policy's
// resource:action pairs, but those of API keys themselves, which a key
// can never use.
func (k *Keys) Scopes() []string {
	var out []string
	for _, s := range k.m.Config().Policy.Permissions() {
		if !strings.HasPrefix(s, "api_key:") {
			out = append(out, s)
		}
	}
	return out
}

// store returns the feature's store: the Manager's, or st's inside InTx.
func (k *Keys) store(st usermgmt.Store) (keystore.Store, error) {
	return usermgmt.NeedStore[keystore.Store](st, k.FeatureName())
}

func (k *Keys) now() time.Time { return k.m.Config().Clock() }

// random returns n random bytes from the Manager's source.
func (k *Keys) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(k.m.Config().Rand, b); err != nil {
		return nil, usermgmt.ErrInternal.Wrap(fmt.Errorf("apikey: random: %w", err))
	}
	return b, nil
}

// ParseKey checks that s has the shape of a key (KeyPrefix and exactly
// SecretBytes in canonical base64url: the last character carries no stray
// bits) and returns its stored prefix. Any other input is ErrInvalidKey.
// It reads s once, without decoding or allocating: it runs on every
// request that carries a key.
func ParseKey(s string) (prefix string, err error) {
	if len(s) != KeyLen || s[:len(KeyPrefix)] != KeyPrefix {
		return "", ErrInvalidKey
	}
	for i := len(KeyPrefix); i < len(s); i++ {
		if b64url[s[i]] == 0xff {
			return "", ErrInvalidKey
		}
	}
	// 43 characters carry 258 bits: the last one's low 2 bits are padding.
	if b64url[s[len(s)-1]]&3 != 0 {
		return "", ErrInvalidKey
	}
	return s[:PrefixLen], nil
}

// b64url maps a byte to its base64url value, 0xff for a byte outside the
// alphabet.
var b64url = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// hashKey is the stored form of a key.
func hashKey(key string) [sha256.Size]byte { return sha256.Sum256([]byte(key)) }

// cleanName checks a key's name.
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxName {
		return "", ErrInvalidName
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", ErrInvalidName
		}
	}
	return name, nil
}

// audit appends one API-key event through st.
func (k *Keys) audit(ctx context.Context, st usermgmt.Store, actorUUID, subjectUUID, action, detail string) error {
	return k.m.AppendAudit(ctx, st, usermgmt.AuditEntry{ActorUUID: actorUUID, SubjectUUID: subjectUUID, Action: action, Detail: detail})
}
