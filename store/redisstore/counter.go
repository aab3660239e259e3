package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The scripts of Counter: one round trip each, atomic on the server.
var (
	// KEYS[1] key; ARGV[1] window (ms). Returns the new count.
	counterAddScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n
`)
	counterGetScript   = redis.NewScript(`return tonumber(redis.call('GET', KEYS[1]) or '0') or 0`)
	counterResetScript = redis.NewScript(`return redis.call('DEL', KEYS[1])`)
)

// Counter counts events by key in Redis, each key forgotten window after
// its last event, for every instance sharing the Redis: the failed logins
// a CAPTCHA counts (it implements captcha.FailureCounter). Build it with
// Limiter.Counter: it shares the limiter's client, key prefix, timeout and
// circuit breaker, so that a Redis outage costs it no waiting either (its
// calls then fail at once, and the CAPTCHA asks every login for one).
type Counter struct {
	l      *Limiter
	window time.Duration
}

// Counter returns a Counter over the limiter's Redis whose keys are
// forgotten window (default 15 minutes) after their last event.
func (l *Limiter) Counter(window time.Duration) *Counter {
	if window <= 0 {
		window = 15 * time.Minute
	}
	return &Counter{l: l, window: window}
}

// Failures returns the events counted on key.
func (c *Counter) Failures(ctx context.Context, key string) (int, error) {
	n, err := c.run(ctx, counterGetScript, key)
	return int(n), err
}

// AddFailure counts one more event on key.
func (c *Counter) AddFailure(ctx context.Context, key string) error {
	_, err := c.run(ctx, counterAddScript, key, max(1, c.window.Milliseconds()))
	return err
}

// Reset forgets key's events.
func (c *Counter) Reset(ctx context.Context, key string) error {
	_, err := c.run(ctx, counterResetScript, key)
	return err
}

// run runs one script on key, through the limiter's breaker.
func (c *Counter) run(ctx context.Context, s *redis.Script, key string, args ...any) (int64, error) {
	l := c.l
	if ok, probe := l.br.allow(); !ok {
		if probe {
			go l.probe(context.WithoutCancel(ctx))
		}
		return 0, fmt.Errorf("redisstore: counter: %w", errBreakerOpen)
	}
	cctx, cancel := context.WithTimeout(ctx, l.opts.Timeout)
	n, err := s.Run(cctx, l.c, []string{l.opts.Prefix + key}, args...).Int64()
	cancel()
	if err != nil {
		if ctx.Err() == nil { // not the caller giving up
			l.br.failed(ctx, l.opts.OnError, err)
		}
		return 0, fmt.Errorf("redisstore: counter: %w", err)
	}
	return n, nil
}
