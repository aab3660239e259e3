package usermgmt

import (
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// authCache holds what the authentication hot path needs — verified tokens,
// session states and user profiles — so that a request with a valid access
// token does not query the database. Entries live at most ttl; every write
// the Manager makes invalidates the entries it touches.
//
// A fill races with an invalidation when a request reads the database just
// before a write commits and stores its (stale) result just after the
// write's invalidation. Epochs close that gap: an invalidation bumps the
// epoch of its key, and a fill that began under an older epoch is not
// stored. Keys share epochs by stripe (a collision only discards a fill,
// which is safe), so a write to one user never spoils fills of the others.
// mu makes "check the epoch, then store" one step against "bump, then
// remove"; lookups do not take it.
type authCache struct {
	ttl      time.Duration
	mu       sync.Mutex
	epochs   [epochStripes]atomic.Uint64
	sessions *lru.Cache[string, cached[sessionState]]
	profiles *lru.Cache[string, cached[*Profile]]
	// tokens holds access tokens already verified, so that a client
	// repeating its token skips the signature check. An entry lives at most
	// ttl and never past the token's own expiry.
	tokens *lru.Cache[string, cached[*AccessClaims]]
	stats  *cacheStats // nil without metrics (telemetry.go)
}

const epochStripes = 256

type cached[V any] struct {
	value   V
	expires time.Time
}

// sessionState is what the hot path needs of a session.
type sessionState struct {
	userUUID  string
	expiresAt time.Time
	revoked   bool
}

func newAuthCache(size int, ttl time.Duration) *authCache {
	s, _ := lru.New[string, cached[sessionState]](size) // size > 0 was validated
	p, _ := lru.New[string, cached[*Profile]](size)
	t, _ := lru.New[string, cached[*AccessClaims]](size)
	return &authCache{ttl: ttl, sessions: s, profiles: p, tokens: t}
}

// epoch returns the epoch counter of key's stripe (FNV-1a).
func (c *authCache) epoch(key string) *atomic.Uint64 {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return &c.epochs[h%epochStripes]
}

// begin returns the epoch a fill of key must present to store its result.
func (c *authCache) begin(key string) uint64 { return c.epoch(key).Load() }

func (c *authCache) session(id string, now time.Time) (sessionState, bool) {
	e, ok := c.sessions.Get(id)
	hit := ok && now.Before(e.expires)
	c.stats.lookup(cacheSession, hit)
	if !hit {
		return sessionState{}, false
	}
	return e.value, true
}

func (c *authCache) putSession(epoch uint64, id string, s sessionState, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch(id).Load() == epoch {
		c.sessions.Add(id, cached[sessionState]{s, now.Add(c.ttl)})
	}
}

func (c *authCache) profile(uuid string, now time.Time) (*Profile, bool) {
	e, ok := c.profiles.Get(uuid)
	hit := ok && now.Before(e.expires)
	c.stats.lookup(cacheProfile, hit)
	if !hit {
		return nil, false
	}
	return e.value, true
}

func (c *authCache) putProfile(epoch uint64, uuid string, p *Profile, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch(uuid).Load() == epoch {
		c.profiles.Add(uuid, cached[*Profile]{p, now.Add(c.ttl)})
	}
}

func (c *authCache) token(tok string, now time.Time) (*AccessClaims, bool) {
	e, ok := c.tokens.Get(tok)
	hit := ok && now.Before(e.expires)
	c.stats.lookup(cacheToken, hit)
	if !hit {
		return nil, false
	}
	return e.value, true
}

func (c *authCache) putToken(tok string, claims *AccessClaims, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	exp := now.Add(c.ttl)
	if claims.ExpiresAt != nil && claims.ExpiresAt.Time.Before(exp) {
		exp = claims.ExpiresAt.Time
	}
	c.tokens.Add(tok, cached[*AccessClaims]{claims, exp})
}

// invalidateUser drops a user's profile.
func (c *authCache) invalidateUser(uuid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch(uuid).Add(1)
	c.profiles.Remove(uuid)
}

// invalidateSessions drops session states.
func (c *authCache) invalidateSessions(ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.epoch(id).Add(1)
		c.sessions.Remove(id)
	}
}

func (c *authCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.epochs {
		c.epochs[i].Add(1)
	}
	c.sessions.Purge()
	c.profiles.Purge()
	c.tokens.Purge()
}
