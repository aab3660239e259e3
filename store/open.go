package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver

	"github.com/usermgmt/usermgmt"
)

// DB is a usermgmt.Store over SQLite or PostgreSQL. It is safe for concurrent
// use; create it with Open and release it with Close.
type DB struct {
	handle
	bun *bun.DB
}

var _ usermgmt.Store = (*DB)(nil)

// Open connects to the database named by dsn, applies the pending migrations
// and returns the Store. Accepted DSNs:
//
//	sqlite://data/app.db          a file, relative to the working directory
//	sqlite:///var/lib/app.db      an absolute file
//	sqlite://:memory:             an in-memory database (one per Open)
//	sqlite+aiosqlite:///data/x.db the Python service's form (//// for absolute)
//	postgres://user:pw@host:5432/db?sslmode=disable
//	postgresql://..., postgresql+psycopg://...
//
// A SQLite file's directory is created when missing. SQLite runs in WAL mode
// with foreign keys on, a busy timeout and IMMEDIATE write transactions, so
// concurrent writers wait for each other instead of failing. PostgreSQL is
// reached through pgx.
//
// Several processes may Open the same fresh database at once: migrations run
// under a lock and each is applied exactly once.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	t, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}

	var db *bun.DB
	switch t.dialect {
	case DialectSQLite:
		sqldb, err := openSQLite(t.path, cfg)
		if err != nil {
			return nil, err
		}
		db = bun.NewDB(sqldb, sqlitedialect.New())
	case DialectPostgres:
		sqldb, err := openPostgres(t.pgURL, cfg)
		if err != nil {
			return nil, err
		}
		db = bun.NewDB(sqldb, pgdialect.New())
	}

	if err := connect(ctx, db, cfg.busyTimeout); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", t.dialect, err)
	}
	if err := migrate(ctx, db.DB, t.dialect); err != nil {
		_ = db.Close()
		return nil, err
	}
	return &DB{handle: handle{idb: db, dialect: t.dialect}, bun: db}, nil
}

// connect opens the pool's first connection. On a fresh SQLite file that
// connection switches the database to WAL, which takes an exclusive lock;
// SQLite answers a process connecting at that moment SQLITE_BUSY at once,
// without waiting through its busy timeout. connect waits instead: it tries
// again until the busy timeout has passed.
func connect(ctx context.Context, db *bun.DB, busyTimeout time.Duration) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		err := db.PingContext(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
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

// openSQLite opens the modernc.org/sqlite pool for path.
func openSQLite(path string, cfg config) (*sql.DB, error) {
	memory := path == memoryPath
	if !memory {
		if strings.HasPrefix(path, "file:") {
			// Keep SQLite from reading the name as a URI.
			path = "." + string(filepath.Separator) + path
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store: create the database directory: %w", err)
		}
		// The file holds password and token hashes: create it readable by
		// its owner only (SQLite gives its -wal and -shm files the same
		// mode). An existing file keeps its mode.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("store: create the database file: %w", err)
		}
	}

	q := url.Values{}
	// busy_timeout comes first (the driver applies it before the others), so
	// that switching a fresh file to WAL waits for a concurrent opener.
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	// BEGIN IMMEDIATE takes the write lock up front: a transaction never has
	// to upgrade a read lock, which SQLite answers with SQLITE_BUSY at once.
	q.Set("_txlock", "immediate")

	sqldb, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	if memory {
		// Every connection to ":memory:" is a database of its own: one
		// connection, never recycled, keeps a single database for the pool.
		sqldb.SetMaxOpenConns(1)
		sqldb.SetMaxIdleConns(1)
		sqldb.SetConnMaxIdleTime(0)
		sqldb.SetConnMaxLifetime(0)
		return sqldb, nil
	}
	setPool(sqldb, cfg)
	return sqldb, nil
}

// openPostgres opens the pgx pool for the URL.
func openPostgres(pgURL string, cfg config) (*sql.DB, error) {
	pgcfg, err := pgx.ParseConfig(pgURL)
	if err != nil {
		// pgx redacts passwords only on a best-effort basis: keep just the
		// cause, never the connection string.
		var pce *pgconn.ParseConfigError
		if errors.As(err, &pce) {
			if cause := pce.Unwrap(); cause != nil {
				return nil, fmt.Errorf("%w: PostgreSQL DSN rejected: %v", errBadDSN, cause)
			}
		}
		return nil, fmt.Errorf("%w: PostgreSQL DSN rejected", errBadDSN)
	}
	// bun sends complete statements with their values quoted in: the simple
	// protocol runs each in one round trip, with no per-text prepared
	// statement.
	pgcfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	if _, ok := pgcfg.RuntimeParams["application_name"]; !ok && cfg.applicationName != "" {
		pgcfg.RuntimeParams["application_name"] = cfg.applicationName
	}
	sqldb := stdlib.OpenDB(*pgcfg)
	setPool(sqldb, cfg)
	return sqldb, nil
}

// setPool sizes a pool so that its connections stay open between requests.
func setPool(sqldb *sql.DB, cfg config) {
	sqldb.SetMaxOpenConns(cfg.maxOpenConns)
	sqldb.SetMaxIdleConns(cfg.maxOpenConns)
	sqldb.SetConnMaxIdleTime(cfg.connMaxIdleTime)
	sqldb.SetConnMaxLifetime(cfg.connMaxLifetime)
}
