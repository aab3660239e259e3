package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store/redisstore"
)

// newLimiter returns the rate limiter: over Redis when REDIS_URL is set,
// in memory otherwise, and a function closing what it opened. A Redis that
// does not answer at start is an error with REDIS_FAILURE_MODE=closed, and
// a warning otherwise (the limiter then decides as the mode says until
// Redis is back). The client fails fast (redisstore.ClientOptions) and the
// limiter's circuit breaker keeps an outage off the request path.
func newLimiter(ctx context.Context, cfg Config, log *slog.Logger) (usermgmt.Limiter, func(), error) {
	if cfg.RedisURL == "" {
		return usermgmt.NewMemoryLimiter(usermgmt.MemoryLimiterOptions{}), func() {}, nil
	}
	o, err := redisstore.ClientOptions(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	// go-redis has one logger per process; its pool and dial messages go
	// to the service's log instead of plain text on stderr.
	redis.SetLogger(redisstore.NewLogger(log))
	c := redis.NewClient(o)
	if err := c.Ping(ctx).Err(); err != nil {
		if cfg.RedisFailureMode == "closed" {
			_ = c.Close()
			return nil, nil, fmt.Errorf("redis does not answer: %w", err)
		}
		log.WarnContext(ctx, "redis does not answer; limiting as REDIS_FAILURE_MODE says until it does", "mode", cfg.RedisFailureMode, "err", err)
	}
	mode := map[string]redisstore.OnError{"closed": redisstore.FailClosed, "open": redisstore.FailOpen, "memory": redisstore.FailToFallback}[cfg.RedisFailureMode]
	log.InfoContext(ctx, "rate limiter on redis", "addr", o.Addr, "on_error", cfg.RedisFailureMode)
	return redisstore.NewLimiter(c, redisstore.LimiterOptions{Prefix: cfg.RedisKeyPrefix, OnError: mode, Logger: log}), func() { _ = c.Close() }, nil
}

// importFlags adds the flags of the file at path (FEATURE_FLAGS_FILE) that
// the database does not have yet.
func importFlags(ctx context.Context, m *usermgmt.Manager, path string, log *slog.Logger) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("FEATURE_FLAGS_FILE: %w", err)
	}
	set, err := usermgmt.ParseFlags(data)
	if err != nil {
		return fmt.Errorf("FEATURE_FLAGS_FILE %s: %w", path, err)
	}
	all, err := m.ImportFeatureFlags(ctx, set)
	if err != nil {
		return fmt.Errorf("import feature flags: %w", err)
	}
	log.InfoContext(ctx, "feature flags imported", "file", path, "in_file", len(set), "in_force", len(all))
	return nil
}
