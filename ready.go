package usermgmt

import (
	"context"
	"fmt"
	"time"
)

// Pinger is a capability of a Store or a Limiter: Ping asks the service
// behind it (the database, Redis) one cheap question that changes nothing
// and returns an error when it does not answer within ctx. Manager.Ready
// checks every part that implements it; a part without it (the in-memory
// limiter) has nothing to be unready about.
type Pinger interface {
	Ping(ctx context.Context) error
}

// The parts Manager.Ready checks, as they name themselves in its answer.
const (
	// ReadyDatabase is the Store (Config.Store).
	ReadyDatabase = "database"
	// ReadyLimiter is the rate limiter (WithLimiter): Redis, in
	// examples/server with REDIS_URL.
	ReadyLimiter = "rate_limiter"
)

// DefaultReadyTimeout bounds each check of Manager.Ready when the caller
// gives no timeout: a readiness probe answers quickly or the part counts
// as down.
const DefaultReadyTimeout = time.Second

// Ready checks, at once, each part of the Manager that can say whether
// it answers (the Store and the Limiter, when they implement Pinger), each
// within timeout (DefaultReadyTimeout when timeout <= 0), and returns the
// parts it checked (ReadyDatabase, ReadyLimiter) mapped to their error,
// nil for those that answered. The Manager is ready when every value is
// nil.
func (m *Manager) Ready(ctx context.Context, timeout time.Duration) map[string]error {
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	parts := map[string]Pinger{}
	if p, ok := m.cfg.Store.(Pinger); ok {
		parts[ReadyDatabase] = p
	}
	if p, ok := m.limiter.(Pinger); ok {
		parts[ReadyLimiter] = p
	}
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(parts)) // buffered: a late answer never blocks
	for name, p := range parts {
		go func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			results <- result{name, p.Ping(cctx)}
		}()
	}
	// A Pinger that ignores its context still cannot hold the answer
	// past the timeout.
	deadline := time.NewTimer(timeout + timeout/10)
	defer deadline.Stop()
	out := make(map[string]error, len(parts))
	for name := range parts {
		out[name] = fmt.Errorf("%s: %w", name, context.DeadlineExceeded)
	}
	for range parts {
		select {
		case r := <-results:
			out[r.name] = nil
			if r.err != nil {
				out[r.name] = fmt.Errorf("%s: %w", r.name, r.err)
			}
		case <-deadline.C:
			return out
		}
	}
	return out
}
