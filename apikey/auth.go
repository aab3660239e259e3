package apikey

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey/keystore"
)

// AuthenticateCredential implements usermgmt.CredentialAuthenticator: a
// credential that starts with KeyPrefix is a key, checked here; any other
// is not handled. The key's row comes from the cache (at most the
// Manager's CacheTTL old) or one indexed lookup by its prefix, its hash is
// compared in constant time, then its expiry, its rate limit and its
// owner (active, and existing) are checked. Every failure of the key
// itself is ErrInvalidKey.
func (k *Keys) AuthenticateCredential(ctx context.Context, credential string) (*usermgmt.Principal, bool, error) {
	if !strings.HasPrefix(credential, KeyPrefix) {
		return nil, false, nil
	}
	p, err := k.authenticate(ctx, credential)
	return p, true, err
}

func (k *Keys) authenticate(ctx context.Context, credential string) (*usermgmt.Principal, error) {
	prefix, err := ParseKey(credential)
	if err != nil {
		return nil, err
	}
	now := k.now()
	e, err := k.entry(ctx, prefix, now)
	if err != nil {
		return nil, err
	}
	sum := hashKey(credential)
	if subtle.ConstantTimeCompare(sum[:], e.key.Hash) != 1 {
		return nil, ErrInvalidKey
	}
	if e.key.ExpiresAt != nil && !now.Before(*e.key.ExpiresAt) {
		return nil, ErrInvalidKey
	}
	if err := k.limit(ctx, e.limitKey); err != nil {
		return nil, err
	}
	prof, err := k.m.Profile(ctx, e.key.UserUUID)
	if errors.Is(err, usermgmt.ErrUserNotFound) || errors.Is(err, usermgmt.ErrNotFound) {
		return nil, ErrInvalidKey
	}
	if err != nil {
		return nil, err
	}
	if !prof.User.IsActive {
		return nil, ErrInvalidKey
	}
	k.recordUse(ctx, e.key, now)
	p := &usermgmt.Principal{Profile: prof, TokenID: e.key.ID, Credential: e.cred}
	if e.key.ExpiresAt != nil {
		p.ExpiresAt = *e.key.ExpiresAt
	}
	return p, nil
}

// entry returns the key of prefix, from the cache or the store.
func (k *Keys) entry(ctx context.Context, prefix string, now time.Time) (*cachedKey, error) {
	if e, ok := k.cache.get(prefix, now); ok {
		return e, nil
	}
	st, err := k.store(k.m.Store())
	if err != nil {
		return nil, err
	}
	gen := k.cache.begin()
	key, err := st.APIKeyByPrefix(ctx, prefix)
	if errors.Is(err, usermgmt.ErrNotFound) {
		return nil, ErrInvalidKey
	}
	if err != nil {
		return nil, err
	}
	e := &cachedKey{key: key, cred: &usermgmt.Credential{Kind: "api_key", ID: key.ID, Scopes: key.Scopes},
		limitKey: "apikey:" + key.ID, expires: now.Add(k.cache.ttl)}
	k.cache.put(gen, prefix, e)
	return e, nil
}

// limit counts one use of the key (its limiter key) against Config.Rate.
func (k *Keys) limit(ctx context.Context, limitKey string) error {
	if k.cfg.Unlimited {
		return nil
	}
	d, err := k.m.Limiter().Allow(ctx, limitKey, k.cfg.Rate)
	if err != nil {
		return usermgmt.ErrUnavailable.WithParam("part", "rate limiter").Wrap(err)
	}
	if !d.Allowed {
		return usermgmt.ErrRateLimited.WithMessage("This API key made too many requests; retry later.").
			WithParam("retry_after", int(math.Ceil(d.RetryAfter.Seconds())))
	}
	return nil
}

// recordUse writes the key's last use and audits it, at most once per
// UsageInterval and instance (and not when the stored last use is more
// recent than that, as after a restart). A failure is logged: it does not
// fail the request.
func (k *Keys) recordUse(ctx context.Context, key *keystore.Key, now time.Time) {
	k.usedMu.Lock()
	last, ok := k.used.Get(key.ID)
	if !ok && key.LastUsedAt != nil {
		last, ok = *key.LastUsedAt, true
	}
	if ok && now.Sub(last) < k.cfg.UsageInterval {
		k.usedMu.Unlock()
		return
	}
	k.used.Add(key.ID, now) // before the write: parallel requests write once
	k.usedMu.Unlock()
	ip := usermgmt.ClientInfoFrom(ctx).IP
	err := k.m.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		ts, err := k.store(tx)
		if err != nil {
			return err
		}
		if err := ts.RecordAPIKeyUse(ctx, key.ID, now, ip); err != nil {
			return err
		}
		return k.audit(ctx, tx, key.UserUUID, key.UserUUID, AuditUsed, "id="+key.ID)
	})
	if err != nil {
		k.m.Config().Logger.LogAttrs(ctx, slog.LevelWarn, "apikey: recording a key's use failed", slog.String("id", key.ID), slog.Any("error", err))
	}
}

// cachedKey is a key row as the hot path keeps it, with the Credential
// every Principal of the key shares.
type cachedKey struct {
	key      *keystore.Key
	cred     *usermgmt.Credential
	limitKey string // the key's counter in the Manager's Limiter
	expires  time.Time
}

// keyCache holds the rows of keys in use, for at most ttl (the Manager's
// CacheTTL: how soon a revocation on another instance is seen). A
// revocation here removes the key at once; the generation keeps a lookup
// that began before it from storing what it read.
type keyCache struct {
	ttl  time.Duration
	mu   sync.Mutex
	gen  uint64
	keys *lru.Cache[string, *cachedKey]
}

func newKeyCache(size int, ttl time.Duration) *keyCache {
	c, _ := lru.New[string, *cachedKey](max(size, 1)) // size > 0
	return &keyCache{ttl: ttl, keys: c}
}

func (c *keyCache) get(prefix string, now time.Time) (*cachedKey, bool) {
	e, ok := c.keys.Get(prefix)
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e, true
}

func (c *keyCache) begin() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *keyCache) put(gen uint64, prefix string, e *cachedKey) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.keys.Add(prefix, e)
	}
}

// forget drops keys (all of them when none is given).
func (c *keyCache) forget(prefixes ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if len(prefixes) == 0 {
		c.keys.Purge()
	}
	for _, p := range prefixes {
		c.keys.Remove(p)
	}
}
