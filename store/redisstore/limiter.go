// Package redisstore holds the Redis implementation of usermgmt.Limiter,
// which lets every instance of a service share one rate limit.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// LimiterOptions configures NewLimiter.
type LimiterOptions struct {
	// Prefix is put before every key. Default "usermgmt:".
	Prefix string
	// OnError is the decision when Redis fails. Default FailClosed.
	OnError OnError
	// Fallback decides with FailToFallback. Default: a fresh
	// usermgmt.MemoryLimiter.
	Fallback usermgmt.Limiter
	// Logger receives a warning per failed decision. Default slog.Default().
	Logger *slog.Logger
}

// Limiter is a usermgmt.Limiter over Redis: one Lua script (one round
// trip, atomic on the server) per decision.
type Limiter struct {
	c    redis.Scripter
	opts LimiterOptions
}

var _ usermgmt.Limiter = (*Limiter)(nil)

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
	return &Limiter{c: c, opts: opts}
}

// Allow implements usermgmt.Limiter.
func (l *Limiter) Allow(ctx context.Context, key string, rate usermgmt.Rate) (usermgmt.Decision, error) {
	if !rate.Valid() {
		return usermgmt.Decision{}, errors.New("redisstore: rate limit and window must be positive")
	}
	interval := max(1, rate.Interval().Microseconds())
	res, err := gcraScript.Run(ctx, l.c, []string{l.opts.Prefix + key}, interval, rate.Window.Microseconds()).Int64Slice()
	if err == nil && len(res) != 4 {
		err = fmt.Errorf("unexpected script answer %v", res)
	}
	if err != nil {
		return l.failed(ctx, key, rate, err)
	}
	return usermgmt.Decision{
		Allowed:    res[0] == 1,
		Limit:      rate.Limit,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		Reset:      time.Duration(res[3]) * time.Microsecond,
	}, nil
}

// failed decides as OnError says when Redis failed.
func (l *Limiter) failed(ctx context.Context, key string, rate usermgmt.Rate, err error) (usermgmt.Decision, error) {
	err = fmt.Errorf("redisstore: rate limit: %w", err)
	if ctx.Err() != nil {
		return usermgmt.Decision{}, err
	}
	l.opts.Logger.WarnContext(ctx, "redis limiter failed", "on_error", l.opts.OnError, "err", err)
	switch l.opts.OnError {
	case FailOpen:
		return usermgmt.Decision{Allowed: true, Limit: rate.Limit, Remaining: rate.Limit - 1, Reset: rate.Interval()}, nil
	case FailToFallback:
		return l.opts.Fallback.Allow(ctx, key, rate)
	}
	return usermgmt.Decision{}, err
}

// Open connects to the Redis server at url (redis://[user:password@]host:port/db
// or rediss://...) and checks that it answers.
func Open(ctx context.Context, url string) (*redis.Client, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisstore: parse URL: %w", err)
	}
	c := redis.NewClient(o)
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redisstore: ping: %w", err)
	}
	return c, nil
}
