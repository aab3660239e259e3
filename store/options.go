package store

import (
	"runtime"
	"time"
)

// Option configures Open.
type Option func(*config)

// config holds what the Options set.
type config struct {
	maxOpenConns    int
	connMaxIdleTime time.Duration
	connMaxLifetime time.Duration
	busyTimeout     time.Duration
	applicationName string
}

// defaultConfig returns the settings Open uses when no Option says otherwise.
func defaultConfig() config {
	return config{
		maxOpenConns:    4 * runtime.GOMAXPROCS(0),
		connMaxIdleTime: 5 * time.Minute,
		connMaxLifetime: time.Hour,
		busyTimeout:     5 * time.Second,
		applicationName: "usermgmt",
	}
}

// WithMaxOpenConns sets the size of the connection pool; as many connections
// are kept idle, so a busy server never dials per request. The default is
// 4×GOMAXPROCS; n <= 0 keeps it. An in-memory SQLite database always uses
// one connection.
func WithMaxOpenConns(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxOpenConns = n
		}
	}
}

// WithConnMaxIdleTime closes pooled connections that stayed unused for d
// (default 5 minutes; d <= 0 keeps them forever).
func WithConnMaxIdleTime(d time.Duration) Option {
	return func(c *config) { c.connMaxIdleTime = max(d, 0) }
}

// WithConnMaxLifetime replaces pooled connections older than d (default one
// hour; d <= 0 keeps them forever).
func WithConnMaxLifetime(d time.Duration) Option {
	return func(c *config) { c.connMaxLifetime = max(d, 0) }
}

// WithBusyTimeout sets how long a SQLite statement waits for another
// connection's write lock before failing (default 5 s; d <= 0 keeps the
// default). It has no effect on PostgreSQL.
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.busyTimeout = d
		}
	}
}

// WithApplicationName sets the application_name PostgreSQL shows for the
// pool's connections (default "usermgmt"), unless the DSN sets one. It has no
// effect on SQLite.
func WithApplicationName(name string) Option {
	return func(c *config) { c.applicationName = name }
}
