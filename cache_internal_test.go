package usermgmt

import (
	"testing"
	"time"
)

// A fill that began before an invalidation of its key is not stored; fills
// of other keys are unaffected.
func TestAuthCacheEpochs(t *testing.T) {
	c := newAuthCache(16, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	stale, other := c.begin("user-a"), c.begin("user-b")
	c.invalidateUser("user-a")
	c.putProfile(stale, "user-a", &Profile{}, now)
	if _, ok := c.profile("user-a", now); ok {
		t.Error("a fill begun before the invalidation was stored")
	}
	if c.epoch("user-a") != c.epoch("user-b") {
		c.putProfile(other, "user-b", &Profile{}, now)
		if _, ok := c.profile("user-b", now); !ok {
			t.Error("an invalidation of one user spoiled another user's fill")
		}
	}
	fresh := c.begin("user-a")
	c.putProfile(fresh, "user-a", &Profile{}, now)
	if _, ok := c.profile("user-a", now); !ok {
		t.Error("a fill begun after the invalidation was not stored")
	}
	if _, ok := c.profile("user-a", now.Add(time.Minute)); ok {
		t.Error("an entry outlived the TTL")
	}

	s := c.begin("sess-1")
	c.invalidateSessions("sess-1")
	c.putSession(s, "sess-1", sessionState{}, now)
	if _, ok := c.session("sess-1", now); ok {
		t.Error("a stale session fill was stored")
	}
}
