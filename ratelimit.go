package usermgmt

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// Rate is a limit: at most Limit requests per Window. Requests are spread
// evenly (a generic cell rate algorithm): after a burst of Limit, one more
// request is allowed every Window/Limit.
type Rate struct {
	Limit  int
	Window time.Duration
}

// Valid reports whether r can limit anything (both fields positive).
func (r Rate) Valid() bool { return r.Limit > 0 && r.Window > 0 }

// Interval is the time one request uses up: Window/Limit.
func (r Rate) Interval() time.Duration { return r.Window / time.Duration(r.Limit) }

// Decision is a Limiter's answer for one request.
type Decision struct {
	// Allowed reports whether the request may go on.
	Allowed bool
	// Limit is the rate's Limit.
	Limit int
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is, for a refused request, how long until one is allowed.
	RetryAfter time.Duration
	// Reset is how long until the full Limit is available again.
	Reset time.Duration
}

// Limiter decides whether a request identified by key may go on under rate.
// Implementations must decide atomically: concurrent calls on one key, from
// any number of processes sharing the limiter's state, never let more
// through than the rate allows. An error means no decision could be made
// (the caller chooses what to do; httpadapter answers 503).
type Limiter interface {
	Allow(ctx context.Context, key string, rate Rate) (Decision, error)
}

// Limiter returns the rate limiter set with WithLimiter, or the Manager's
// in-memory one.
func (m *Manager) Limiter() Limiter { return m.limiter }

// errInvalidRate is returned for a rate that cannot limit.
var errInvalidRate = errors.New("usermgmt: rate limit and window must be positive")

// gcra decides one request: tat is the key's theoretical arrival time (zero
// when unknown); it returns the decision and the new tat to store (zero when
// nothing changes).
func gcra(now, tat time.Time, rate Rate) (Decision, time.Time) {
	interval := rate.Interval()
	if interval <= 0 {
		interval = 1
	}
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	allowAt := next.Add(-rate.Window)
	d := Decision{Limit: rate.Limit}
	if now.Before(allowAt) {
		d.RetryAfter = allowAt.Sub(now)
		d.Reset = tat.Sub(now)
		return d, time.Time{}
	}
	d.Allowed = true
	d.Reset = next.Sub(now)
	d.Remaining = int((rate.Window - d.Reset) / interval)
	return d, next
}

// MemoryLimiterOptions configures NewMemoryLimiter.
type MemoryLimiterOptions struct {
	// MaxKeys bounds the keys remembered per window length; the least
	// recently used are forgotten first. Default 100,000.
	MaxKeys int
	// Clock is the time source. Default time.Now.
	Clock func() time.Time
}

// MemoryLimiter is a Limiter whose state lives in the process (golang-lru
// expirable caches, one per window length, whose entries expire after the
// window). Instances sharing one database do not share it: use a shared
// limiter (store/redisstore) for a combined limit.
type MemoryLimiter struct {
	opts   MemoryLimiterOptions
	mu     sync.Mutex
	caches map[time.Duration]*expirable.LRU[string, time.Time]
}

// NewMemoryLimiter returns an in-memory limiter.
func NewMemoryLimiter(opts MemoryLimiterOptions) *MemoryLimiter {
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = 100_000
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &MemoryLimiter{opts: opts, caches: map[time.Duration]*expirable.LRU[string, time.Time]{}}
}

// Allow implements Limiter.
func (l *MemoryLimiter) Allow(_ context.Context, key string, rate Rate) (Decision, error) {
	if !rate.Valid() {
		return Decision{}, errInvalidRate
	}
	now := l.opts.Clock()
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.caches[rate.Window]
	if c == nil {
		c = expirable.NewLRU[string, time.Time](l.opts.MaxKeys, nil, rate.Window)
		l.caches[rate.Window] = c
	}
	tat, _ := c.Get(key)
	d, next := gcra(now, tat, rate)
	if !next.IsZero() {
		c.Add(key, next)
	}
	return d, nil
}
