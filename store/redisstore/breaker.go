package redisstore

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// breaker is the Limiter's circuit breaker. Closed, every decision goes to
// Redis. One failure opens it: decisions then go straight to the failure
// mode, without touching Redis, and after a back-off one probe at a time
// (in the background, so no request waits for it) asks Redis whether it is
// back. A failed probe doubles the back-off up to its maximum; a probe that
// succeeds closes the breaker. Opening and closing each log one warning.
type breaker struct {
	backoff, maxBackoff time.Duration
	clock               func() time.Time
	log                 *slog.Logger
	onChange            func(open bool)

	mu       sync.Mutex
	open     bool
	since    time.Time     // when it opened
	wait     time.Duration // the current back-off
	next     time.Time     // when the next probe may start
	probing  bool          // a probe is under way
	lastFail error         // the failure that opened it, for the log
}

// allow reports whether a decision may go to Redis now. When it may not
// and a probe is due, it returns probe = true: the caller starts one
// (exactly one caller gets it until the probe reports with probed).
func (b *breaker) allow() (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true, false
	}
	if b.probing || b.clock().Before(b.next) {
		return false, false
	}
	b.probing = true
	return false, true
}

// failed records a failed call: it opens a closed breaker (one warning).
func (b *breaker) failed(ctx context.Context, mode OnError, err error) {
	b.mu.Lock()
	if b.open {
		b.mu.Unlock()
		return
	}
	now := b.clock()
	b.open, b.since, b.wait, b.lastFail = true, now, b.backoff, err
	b.next = now.Add(b.wait)
	b.mu.Unlock()
	b.log.WarnContext(ctx, "redis limiter: Redis does not answer; deciding by the failure mode until it does",
		"on_error", mode.String(), "probe_after", b.backoff, "err", err)
	if b.onChange != nil {
		b.onChange(true)
	}
}

// probed records the result of a probe.
func (b *breaker) probed(ctx context.Context, err error) {
	b.mu.Lock()
	b.probing = false
	if !b.open {
		b.mu.Unlock()
		return
	}
	now := b.clock()
	if err != nil {
		b.wait = min(2*b.wait, b.maxBackoff)
		b.next = now.Add(b.wait)
		b.mu.Unlock()
		return
	}
	b.open = false
	down := now.Sub(b.since)
	b.mu.Unlock()
	b.log.WarnContext(ctx, "redis limiter: Redis answers again; deciding on Redis", "down_for", down.Round(time.Millisecond))
	if b.onChange != nil {
		b.onChange(false)
	}
}

// isOpen reports whether the breaker is open.
func (b *breaker) isOpen() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open
}
