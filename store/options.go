package store

import (
	"database/sql"
	"log/slog"
	"runtime"
	"time"
)

// Option configures Open.
type Option func(*Pool)

// Pool holds the connection pool's settings, as Open's Options set them; a
// Driver's Connect receives them. The zero value is not meant for use:
// Open starts from the defaults the Options document.
type Pool struct {
	// MaxOpenConns bounds the pool's connections; as many are kept idle.
	MaxOpenConns int
	// ConnMaxIdleTime closes a connection unused for that long (0: never).
	ConnMaxIdleTime time.Duration
	// ConnMaxLifetime replaces a connection that old (0: never).
	ConnMaxLifetime time.Duration
	// BusyTimeout is how long a SQLite statement waits for another
	// connection's write lock.
	BusyTimeout time.Duration
	// ApplicationName is the application_name of PostgreSQL connections,
	// unless the DSN sets one.
	ApplicationName string
	// PoolWait bounds how long a transaction waits for a free connection
	// when all MaxOpenConns are in use (0: as long as its context allows).
	PoolWait time.Duration
	// Logger receives the store's outage lines: one when the database
	// stops answering, one when it answers again.
	Logger *slog.Logger
}

// Apply sizes db as p says, so that its connections stay open between
// requests.
func (p Pool) Apply(db *sql.DB) {
	db.SetMaxOpenConns(p.MaxOpenConns)
	db.SetMaxIdleConns(p.MaxOpenConns)
	db.SetConnMaxIdleTime(p.ConnMaxIdleTime)
	db.SetConnMaxLifetime(p.ConnMaxLifetime)
}

// defaultPool returns the settings Open uses when no Option says otherwise.
func defaultPool() Pool {
	return Pool{
		MaxOpenConns:    4 * runtime.GOMAXPROCS(0),
		ConnMaxIdleTime: 5 * time.Minute,
		ConnMaxLifetime: time.Hour,
		BusyTimeout:     5 * time.Second,
		ApplicationName: "usermgmt",
		PoolWait:        5 * time.Second,
	}
}

// WithMaxOpenConns sets the size of the connection pool; as many connections
// are kept idle, so a busy server never dials per request. The default is
// 4×GOMAXPROCS; n <= 0 keeps it. An in-memory SQLite database always uses
// one connection.
func WithMaxOpenConns(n int) Option {
	return func(p *Pool) {
		if n > 0 {
			p.MaxOpenConns = n
		}
	}
}

// WithConnMaxIdleTime closes pooled connections that stayed unused for d
// (default 5 minutes; d <= 0 keeps them forever).
func WithConnMaxIdleTime(d time.Duration) Option {
	return func(p *Pool) { p.ConnMaxIdleTime = max(d, 0) }
}

// WithConnMaxLifetime replaces pooled connections older than d (default one
// hour; d <= 0 keeps them forever).
func WithConnMaxLifetime(d time.Duration) Option {
	return func(p *Pool) { p.ConnMaxLifetime = max(d, 0) }
}

// WithBusyTimeout sets how long a SQLite statement waits for another
// connection's write lock before failing (default 5 s; d <= 0 keeps the
// default). It has no effect on PostgreSQL.
func WithBusyTimeout(d time.Duration) Option {
	return func(p *Pool) {
		if d > 0 {
			p.BusyTimeout = d
		}
	}
}

// WithApplicationName sets the application_name PostgreSQL shows for the
// pool's connections (default "usermgmt"), unless the DSN sets one. It has no
// effect on SQLite.
func WithApplicationName(name string) Option {
	return func(p *Pool) { p.ApplicationName = name }
}

// WithPoolWait sets how long a transaction waits for a free connection of
// a pool whose MaxOpenConns are all in use before it fails with
// usermgmt.ErrUnavailable (default 5 s; d < 0: wait as long as the
// context allows; 0 keeps the default).
func WithPoolWait(d time.Duration) Option {
	return func(p *Pool) {
		switch {
		case d < 0:
			p.PoolWait = 0
		case d > 0:
			p.PoolWait = d
		}
	}
}

// WithLogger sets the logger of the store's outage lines (default
// slog.Default()): an ERROR line when the database stops answering
// (refused or dropped connections, a timeout, a server shutting down, no
// pooled connection in time, SQLite busy past its timeout) and an INFO
// line when it answers again, once per outage, however many requests it
// fails meanwhile.
func WithLogger(l *slog.Logger) Option {
	return func(p *Pool) { p.Logger = l }
}
