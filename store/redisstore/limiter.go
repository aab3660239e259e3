// Package redisstore holds the Redis implementation of usermgmt.Limiter,
// which lets every instance of a service share one rate limit.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/usermgmt/usermgmt"
)

// gcraScript decides one request atomically with the generic cell rate
// algorithm: the key holds the theoretical arrival time (TAT) in
// microseconds of Redis's own clock (TIME), so instances with skewed
// clocks agree. A refused request changes nothing; an allowed one moves the
// TAT by one interval and sets the key to expire when the TAT is reached,
// so a client that stops is forgotten and one that keeps sending is never
// given a longer window (the reference refreshed its TTL on every hit).
//
// KEYS[1] key; ARGV[1] interval (µs); ARGV[2] window (µs).
// Returns {allowed, remaining, retry_after µs, reset µs}.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then tat = now end
local nxt = tat + interval
local allow_at = nxt - window
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
local ttl = math.ceil((nxt - now) / 1000)
if ttl < 1 then ttl = 1 end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', ttl)
local reset = nxt - now
return {1, math.floor((window - reset) / interval), 0, reset}
`)

// OnError says what a Limiter decides when Redis cannot answer.
type OnError int

const (
	// FailClosed returns the error: httpadapter answers 503, so nothing
	// goes through unlimited while Redis is down.
	FailClosed OnError = iota
	// FailOpen allows the request: the service stays up, unlimited, while
	// Redis is down.
	FailOpen
	// FailToFallback asks LimiterOptions.Fallback (an in-memory limiter,
	// say): limits hold per instance while Redis is down.
	FailToFallback
)

// String returns the mode's name as REDIS_FAILURE_MODE spells it:
// "closed", "open" or "memory".
func (o OnError) String() string {
	switch o {
	case FailOpen:
		return "open"
	case FailToFallback:
		return "memory"
	}
	return "closed"
}

// LimiterOptions configures NewLimiter.
type LimiterOptions struct {
	// Prefix is put before every key. Default "usermgmt:".
	Prefix string
	// OnError is the decision when Redis fails. Default FailClosed.
	OnError OnError
	// Fallback decides with FailToFallback. Default: a fresh
	// usermgmt.MemoryLimiter.
	Fallback usermgmt.Limiter
	// Logger receives one warning when Redis stops answering and one when
	// it answers again. Default slog.Default().
	Logger *slog.Logger

	// Timeout bounds one decision on Redis, the wait for a pooled
	// connection included; past it the decision counts as a failure.
	// Default 100 ms. Only the decisions in flight when Redis goes away
	// wait that long: the breaker then sends the others straight to
	// OnError. The client should honour context deadlines
	// (redis.Options.ContextTimeoutEnabled, as ClientOptions sets it);
	// otherwise a read from a Redis that hangs waits the client's
	// ReadTimeout.
	Timeout time.Duration
	// Backoff is how long the breaker stays open after a failure before
	// the first probe; each failed probe doubles it, up to MaxBackoff.
	// Defaults 1 s and 30 s.
	Backoff, MaxBackoff time.Duration
	// Clock returns the current time, for the back-off. Default time.Now.
	Clock func() time.Time
	// OnBreakerChange, when set, is called with true when the breaker
	// opens (Redis stopped answering) and false when it closes: the place
	// for a metric or a health check.
	OnBreakerChange func(open bool)
}

// Limiter is a usermgmt.Limiter over Redis: one Lua script (one round
// trip, atomic on the server) per decision.
//
// A circuit breaker guards it: after a failed decision, decisions go at
// once to LimiterOptions.OnError, without waiting for Redis, and one
// probe at a time, in the background after a back-off, checks whether
// Redis answers again. An outage costs a request no more than the
// Timeout of the decisions that were in flight when it began.
type Limiter struct {
	c    redis.Scripter
	opts LimiterOptions
	br   breaker
}

var (
	_ usermgmt.Limiter = (*Limiter)(nil)
	_ usermgmt.Pinger  = (*Limiter)(nil)
)

// NewLimiter returns a Limiter over the client c (a *redis.Client, a
// cluster or ring client: anything that runs scripts).
func NewLimiter(c redis.Scripter, opts LimiterOptions) *Limiter {
	if opts.Prefix == "" {
		opts.Prefix = "usermgmt:"
	}
	if opts.OnError == FailToFallback && opts.Fallback == nil {
		opts.Fallback = usermgmt.NewMemoryLimiter(usermgmt.MemoryLimiterOptions{})
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 100 * time.Millisecond
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.MaxBackoff < opts.Backoff {
		opts.MaxBackoff = max(opts.Backoff, 30*time.Second)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Limiter{c: c, opts: opts, br: breaker{
		backoff: opts.Backoff, maxBackoff: opts.MaxBackoff, clock: opts.Clock,
		log: opts.Logger, onChange: opts.OnBreakerChange,
	}}
}

// Degraded reports whether the breaker is open: Redis failed and has not
// answered a probe since, so decisions follow LimiterOptions.OnError.
func (l *Limiter) Degraded() bool { return l.br.isOpen() }

// Allow implements usermgmt.Limiter.
func (l *Limiter) Allow(ctx context.Context, key string, rate usermgmt.Rate) (usermgmt.Decision, error) {
	if !rate.Valid() {
		return usermgmt.Decision{}, errors.New("redisstore: rate limit and window must be positive")
	}
	if ok, probe := l.br.allow(); !ok {
		if probe {
			go l.probe(context.WithoutCancel(ctx))
		}
		return l.fallback(ctx, key, rate, errBreakerOpen)
	}
	interval := max(1, rate.Interval().Microseconds())
	cctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	res, err := gcraScript.Run(cctx, l.c, []string{l.opts.Prefix + key}, interval, rate.Window.Microseconds()).Int64Slice()
	cancel()
	if err == nil && len(res) != 4 {
		err = fmt.Errorf("unexpected script answer %v", res)
	}
	if err != nil {
		if ctx.Err() != nil {
			// The caller gave up: not Redis's failure.
			return usermgmt.Decision{}, fmt.Errorf("redisstore: rate limit: %w", err)
		}
		l.br.failed(ctx, l.opts.OnError, err)
		return l.fallback(ctx, key, rate, err)
	}
	return usermgmt.Decision{
		Allowed:    res[0] == 1,
		Limit:      rate.Limit,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		Reset:      time.Duration(res[3]) * time.Microsecond,
	}, nil
}

// errBreakerOpen is the cause of a fail-closed refusal while the breaker
// is open.
var errBreakerOpen = errors.New("redis did not answer; circuit breaker open")

// probe asks Redis whether it answers (one round trip that changes
// nothing) and reports to the breaker.
func (l *Limiter) probe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	defer cancel()
	l.br.probed(ctx, l.c.ScriptExists(ctx, gcraScript.Hash()).Err())
}

// Ping implements usermgmt.Pinger: one round trip to Redis that changes
// nothing, within ctx, whatever the breaker says (a readiness probe asks
// about Redis itself, not about the decisions).
func (l *Limiter) Ping(ctx context.Context) error {
	if err := l.c.ScriptExists(ctx, gcraScript.Hash()).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// fallback decides as OnError says when Redis cannot.
func (l *Limiter) fallback(ctx context.Context, key string, rate usermgmt.Rate, err error) (usermgmt.Decision, error) {
	err = fmt.Errorf("redisstore: rate limit: %w", err)
	switch l.opts.OnError {
	case FailOpen:
		return usermgmt.Decision{Allowed: true, Limit: rate.Limit, Remaining: rate.Limit - 1, Reset: rate.Interval()}, nil
	case FailToFallback:
		return l.opts.Fallback.Allow(ctx, key, rate)
	}
	return usermgmt.Decision{}, err
}

// ClientOptions parses url (redis://[user:password@]host:port/db or
// rediss://...) into client options tuned for a limiter on the request
// path, where an answer late is worse than a fallback answer now: 1 s to
// dial, 500 ms to read or write, context deadlines honoured, no retries
// and one dial attempt (the Limiter's breaker is the retry policy). A
// parameter the URL sets (dial_timeout=3s, max_retries=2 ...) wins.
func ClientOptions(url string) (*redis.Options, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisstore: parse URL: %w", err)
	}
	var set neturl.Values
	if u, err := neturl.Parse(url); err == nil {
		set = u.Query()
	}
	if !set.Has("dial_timeout") {
		o.DialTimeout = time.Second
	}
	if !set.Has("read_timeout") {
		o.ReadTimeout = 500 * time.Millisecond
	}
	if !set.Has("write_timeout") {
		o.WriteTimeout = 500 * time.Millisecond
	}
	if !set.Has("max_retries") {
		o.MaxRetries = -1
	}
	if !set.Has("context_timeout_enabled") {
		o.ContextTimeoutEnabled = true
	}
	o.DialerRetries = 1
	return o, nil
}

// Open connects to the Redis server at url with ClientOptions and checks
// that it answers.
func Open(ctx context.Context, url string) (*redis.Client, error) {
	o, err := ClientOptions(url)
	if err != nil {
		return nil, err
	}
	c := redis.NewClient(o)
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redisstore: ping: %w", err)
	}
	return c, nil
}
