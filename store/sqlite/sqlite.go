// Package sqlite opens the usermgmt store (package store) on SQLite,
// through the pure-Go driver modernc.org/sqlite (no cgo) and bun's SQLite
// dialect. A host that keeps its users in SQLite imports this package
// only, and its binary links neither pgx nor the PostgreSQL dialect:
//
//	st, err := sqlite.Open(ctx, "data/app.db")
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//	m, err := usermgmt.New(usermgmt.Config{Store: st, ...})
//
// The file is created (readable by its owner only) when missing, with its
// directory; it runs in WAL mode with foreign keys on, a busy timeout
// (store.WithBusyTimeout) and IMMEDIATE write transactions, so concurrent
// writers wait for each other instead of failing.
package sqlite

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

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver

	"github.com/usermgmt/usermgmt/store"
)

// Open opens the SQLite database name and applies the pending migrations.
// name is a file path (relative to the working directory, or absolute),
// ":memory:" for an in-memory database (one per Open), or a DSN of the
// SQLite forms store.Open accepts (sqlite://data/app.db,
// sqlite+aiosqlite:///data/app.db).
func Open(ctx context.Context, name string, opts ...store.Option) (*store.DB, error) {
	dsn := name
	if !strings.Contains(name, "://") {
		dsn = "sqlite://" + name
	}
	return store.Open(ctx, dsn, []store.Driver{Driver()}, opts...)
}

// Driver returns the SQLite store.Driver, for store.Open.
func Driver() store.Driver { return driver{} }

// driver is the SQLite store.Driver.
type driver struct{}

// memoryPath is the location that names an in-memory database.
const memoryPath = ":memory:"

func (driver) Dialect() string { return store.DialectSQLite }

// Connect opens the modernc.org/sqlite pool for the file at path.
func (driver) Connect(path string, pool store.Pool) (*bun.DB, error) {
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
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", pool.BusyTimeout.Milliseconds()))
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
	} else {
		pool.Apply(sqldb)
	}
	return bun.NewDB(sqldb, sqlitedialect.New()), nil
}

// SQLite's result codes the store maps (primary codes are the low byte of
// an extended code).
const (
	sqliteBusy                 = 5    // SQLITE_BUSY (primary code)
	sqliteFull                 = 13   // SQLITE_FULL (primary code): the disk is full
	sqliteConstraint           = 19   // SQLITE_CONSTRAINT (primary code)
	sqliteConstraintForeignKey = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
)

// Classify reads SQLite's result code.
func (driver) Classify(err error) store.Failure {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return store.Failure{}
	}
	switch code := se.Code(); {
	case code == sqliteConstraintUnique || code == sqliteConstraintPrimaryKey:
		return store.Failure{Kind: store.FailureUnique, Field: sqliteConflictField(se.Error())}
	case code == sqliteConstraintForeignKey:
		return store.Failure{Kind: store.FailureForeignKey}
	case code&0xff == sqliteConstraint:
		return store.Failure{Kind: store.FailureConstraint}
	case code&0xff == sqliteBusy:
		return store.Failure{Kind: store.FailureBusy}
	case code&0xff == sqliteFull:
		return store.Failure{Kind: store.FailureFull}
	}
	return store.Failure{}
}

// conflictFields names the field each unique constraint of the SQLite
// schema (store's migrations/sqlite) protects: SQLite reports "table.column"
// for a column constraint and the index name for an expression index.
var conflictFields = map[string]string{
	"users.uuid":            "uuid",
	"users.username":        "username",
	"users_email_lower_key": "email",
	"sessions.id":           "id",
	"files.owner_uuid":      "file_name",

	"external_identities.provider":  "external_identity",
	"external_identities.user_uuid": "external_provider",
	"oauth_states.state_hash":       "state",
}

// sqliteConflictField finds the field in a SQLite message such as
// "UNIQUE constraint failed: users.username (2067)" or
// "UNIQUE constraint failed: index 'users_email_lower_key' (2067)". An
// unknown constraint is named as SQLite names it.
func sqliteConflictField(msg string) string {
	const marker = "constraint failed: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return ""
	}
	name := msg[i+len(marker):]
	name, _, _ = strings.Cut(name, " (") // the result code
	name, _, _ = strings.Cut(name, ", ") // the first of several columns
	name = strings.TrimPrefix(name, "index ")
	name = strings.Trim(name, "'")
	if field, ok := conflictFields[name]; ok {
		return field
	}
	return name
}
