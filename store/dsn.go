package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Dialect names returned by DB.Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// memoryPath is the SQLite path that names an in-memory database.
const memoryPath = ":memory:"

// target is a parsed DSN: which database to open and where.
type target struct {
	dialect string
	// path is the SQLite file (relative or absolute) or memoryPath.
	path string
	// pgURL is the PostgreSQL connection URL with a scheme pgx understands.
	pgURL string
}

// ErrBadDSN is wrapped by every error about a DSN: those of Open and those
// a Driver returns for the location Open read from it.
var ErrBadDSN = errors.New("store: invalid DSN")

// parseDSN reads the DSN forms Open accepts:
//
//	sqlite://PATH                 PATH relative or absolute (sqlite:///abs/app.db)
//	sqlite://:memory:             one in-memory database
//	sqlite+aiosqlite:///PATH      SQLAlchemy form: three slashes, then PATH (a
//	                              fourth slash makes it absolute)
//	postgres://..., postgresql://..., postgresql+psycopg://...
//
// Its errors never quote a PostgreSQL DSN, so no password can leak.
func parseDSN(dsn string) (target, error) {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok || scheme == "" {
		return target{}, fmt.Errorf("%w: no scheme (want sqlite://PATH or postgres://...)", ErrBadDSN)
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
		return sqliteTarget(dsn, rest)
	case "sqlite+aiosqlite":
		// SQLAlchemy: sqlite+aiosqlite://<host>/<path>, where host must be empty.
		if rest == "" {
			return sqliteTarget(dsn, memoryPath)
		}
		path, ok := strings.CutPrefix(rest, "/")
		if !ok {
			return target{}, fmt.Errorf("%w: %q: want sqlite+aiosqlite:///PATH (three slashes)", ErrBadDSN, dsn)
		}
		return sqliteTarget(dsn, path)
	case "postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2":
		pgURL := "postgresql://" + rest
		if _, err := url.Parse(pgURL); err != nil {
			// url's error quotes the input, password included: drop it.
			return target{}, fmt.Errorf("%w: malformed PostgreSQL URL", ErrBadDSN)
		}
		return target{dialect: DialectPostgres, pgURL: pgURL}, nil
	default:
		return target{}, fmt.Errorf("%w: unsupported scheme %q (want sqlite, sqlite+aiosqlite, postgres, postgresql or postgresql+psycopg)", ErrBadDSN, scheme)
	}
}

// sqliteTarget validates a SQLite path taken from dsn.
func sqliteTarget(dsn, path string) (target, error) {
	switch {
	case path == "":
		return target{}, fmt.Errorf("%w: %q names no SQLite file", ErrBadDSN, dsn)
	case strings.ContainsAny(path, "?#"):
		return target{}, fmt.Errorf("%w: %q: query parameters are not supported in SQLite DSNs (use Options)", ErrBadDSN, dsn)
	case strings.ContainsRune(path, 0):
		return target{}, fmt.Errorf("%w: SQLite path contains a NUL byte", ErrBadDSN)
	case path != memoryPath && strings.HasSuffix(path, "/"):
		return target{}, fmt.Errorf("%w: %q names a directory, not a SQLite file", ErrBadDSN, dsn)
	}
	return target{dialect: DialectSQLite, path: path}, nil
}
