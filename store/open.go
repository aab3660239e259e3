package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt"
)

// DB is a usermgmt.Store over SQLite or PostgreSQL. It is safe for concurrent
// use; create it with Open (or the Open of store/sqlite or store/postgres)
// and release it with Close.
type DB struct {
	handle
	bun      *bun.DB
	poolWait time.Duration // Pool.PoolWait
}

var (
	_ usermgmt.Store  = (*DB)(nil)
	_ usermgmt.Pinger = (*DB)(nil)
)

// Open connects to the database named by dsn through the one of drivers
// for its dialect, applies the pending migrations and returns the Store.
// Accepted DSNs:
//
//	sqlite://data/app.db          a file, relative to the working directory
//	sqlite:///var/lib/app.db      an absolute file
//	sqlite://:memory:             an in-memory database (one per Open)
//	sqlite+aiosqlite:///data/x.db the Python service's form (//// for absolute)
//	postgres://user:pw@host:5432/db?sslmode=disable
//	postgresql://..., postgresql+psycopg://...
//
// The SQLite forms need the Driver of store/sqlite, the PostgreSQL ones that
// of store/postgres; without it, the error wraps ErrNoDriver. Passing only
// the drivers a host uses keeps the other database out of its binary;
// store/anydb passes both.
//
// A SQLite file's directory is created when missing. SQLite runs in WAL mode
// with foreign keys on, a busy timeout and IMMEDIATE write transactions, so
// concurrent writers wait for each other instead of failing. PostgreSQL is
// reached through pgx.
//
// Several processes may Open the same fresh database at once: migrations run
// under a lock and each is applied exactly once.
func Open(ctx context.Context, dsn string, drivers []Driver, opts ...Option) (*DB, error) {
	db, h, pool, err := dial(ctx, dsn, drivers, opts)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db.DB, h.dialect); err != nil {
		_ = db.Close()
		return nil, err
	}
	return &DB{handle: h, bun: db, poolWait: pool.PoolWait}, nil
}

// dial connects to the database dsn names, without migrating it.
func dial(ctx context.Context, dsn string, drivers []Driver, opts []Option) (*bun.DB, handle, Pool, error) {
	t, err := parseDSN(dsn)
	if err != nil {
		return nil, handle{}, Pool{}, err
	}
	drv, err := driverFor(t.dialect, drivers)
	if err != nil {
		return nil, handle{}, Pool{}, err
	}
	pool := defaultPool()
	for _, opt := range opts {
		opt(&pool)
	}

	location := t.path
	if t.dialect == DialectPostgres {
		location = t.pgURL
	}
	db, err := drv.Connect(location, pool)
	if err != nil {
		return nil, handle{}, Pool{}, err
	}
	logger := pool.Logger
	if logger == nil {
		logger = slog.Default()
	}
	hs := &health{log: logger, dialect: t.dialect}
	db.AddQueryHook(hs)
	h := handle{idb: db, dialect: t.dialect, drv: drv, health: hs}
	if err := h.connect(ctx, db, pool.BusyTimeout); err != nil {
		_ = db.Close()
		return nil, handle{}, Pool{}, fmt.Errorf("store: connect to %s: %w", t.dialect, err)
	}
	return db, h, pool, nil
}

// connect opens the pool's first connection. On a fresh SQLite file that
// connection switches the database to WAL, which takes an exclusive lock;
// SQLite answers a process connecting at that moment SQLITE_BUSY at once,
// without waiting through its busy timeout. connect waits instead: it tries
// again until the busy timeout has passed.
func (h *handle) connect(ctx context.Context, db *bun.DB, busyTimeout time.Duration) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		err := db.PingContext(ctx)
		if err == nil || h.classify(err).Kind != FailureBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Bun returns the underlying bun handle, for hosts that keep tables of their
// own in the same database.
func (db *DB) Bun() *bun.DB { return db.bun }

// Dialect returns DialectSQLite or DialectPostgres.
func (db *DB) Dialect() string { return db.dialect }

// Close closes every connection of the pool.
func (db *DB) Close() error {
	if err := db.bun.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}
