package usermgmt

import (
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// authCache holds what the authentication hot path needs — session states
// and user profiles — so that a request with a valid access token does not
// query the database. Entries live at most ttl; every write the Manager makes
// invalidates the entries it touches.
//
// A fill races with an invalidation when a request reads the database just
// before a write commits and stores its (stale) result just after the
// write's invalidation. The epoch closes that gap: invalidations bump it, and
// a fill that began under an older epoch is not stored. mu makes "check the
// epoch, then store" one step against "bump, then remove"; lookups do not
// take it.
type authCache struct {
	ttl      time.Duration
	mu       sync.Mutex
	epoch    atomic.Uint64
	sessions *lru.Cache[string, cached[sessionState]]
	profiles *lru.Cache[string, cached[*Profile]]
	// tokens holds access tokens already verified, so that a client
	// repeating its token skips the signature check. An entry lives at most
	// ttl and never past the token's own expiry.
	tokens *lru.Cache[string, cached[*AccessClaims]]
}

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

func (c *authCache) token(tok string, now time.Time) (*AccessClaims, bool) {
	e, ok := c.tokens.Get(tok)
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.value, true
}

func (c *authCache) putToken(tok string, claims *AccessClaims, now time.Time) {
	exp := now.Add(c.ttl)
	if claims.ExpiresAt != nil && claims.ExpiresAt.Time.Before(exp) {
		exp = claims.ExpiresAt.Time
	}
	c.tokens.Add(tok, cached[*AccessClaims]{claims, exp})
}

// begin returns the epoch a fill must present to store its result.
func (c *authCache) begin() uint64 { return c.epoch.Load() }

func (c *authCache) session(id string, now time.Time) (sessionState, bool) {
	e, ok := c.sessions.Get(id)
	if !ok || !now.Before(e.expires) {
		return sessionState{}, false
	}
	return e.value, true
}

func (c *authCache) putSession(epoch uint64, id string, s sessionState, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() == epoch {
		c.sessions.Add(id, cached[sessionState]{s, now.Add(c.ttl)})
	}
}

func (c *authCache) profile(uuid string, now time.Time) (*Profile, bool) {
	e, ok := c.profiles.Get(uuid)
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.value, true
}

func (c *authCache) putProfile(epoch uint64, uuid string, p *Profile, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() == epoch {
		c.profiles.Add(uuid, cached[*Profile]{p, now.Add(c.ttl)})
	}
}

// invalidateUser drops a user's profile.
func (c *authCache) invalidateUser(uuid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch.Add(1)
	c.profiles.Remove(uuid)
}

// invalidateSessions drops session states.
func (c *authCache) invalidateSessions(ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch.Add(1)
	for _, id := range ids {
		c.sessions.Remove(id)
	}
}

func (c *authCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch.Add(1)
	c.sessions.Purge()
	c.profiles.Purge()
	c.tokens.Purge()
}
