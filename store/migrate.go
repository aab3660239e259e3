package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema, one directory per dialect. A migration is
// a file named NNNN_what.sql; NNNN is its version. To change the schema, add
// the next file to both directories: Open applies every version the database
// has not recorded, in order, each exactly once.
//
// Each migration runs inside the migration transaction, so it must not use
// statements PostgreSQL forbids there (CREATE INDEX CONCURRENTLY, ...).
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock that serialises
// concurrent migrations ("usermgmt" in ASCII).
const migrationLockKey = 0x757365726d676d74

// migration is one schema step.
type migration struct {
	version int64
	name    string
	sql     string
}

// loadMigrations returns the dialect's migrations in version order.
func loadMigrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var ms []migration
	seen := map[int64]string{}
	for _, e := range entries {
		name := e.Name()
		digits, _, ok := strings.Cut(name, "_")
		if !ok || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("store: migration %s: want NNNN_name.sql", name)
		}
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: bad version %q", name, digits)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("store: migrations %s and %s share version %d", other, name, v)
		}
		seen[v] = name
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("store: read migration %s: %w", name, err)
		}
		ms = append(ms, migration{version: v, name: strings.TrimSuffix(name, ".sql"), sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies the pending migrations in one transaction, holding a lock
// that makes a concurrent migrate (another process opening the same
// database) wait and then find nothing left to do. On SQLite the lock is the
// write lock BEGIN IMMEDIATE takes; on PostgreSQL a transaction-scoped
// advisory lock.
func migrate(ctx context.Context, db *sql.DB, dialect string) (err error) {
	ms, err := loadMigrations(dialect)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	createTable := `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL)`
	insert := `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`
	if dialect == DialectPostgres {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", int64(migrationLockKey))); err != nil {
			return fmt.Errorf("store: migrate: lock: %w", err)
		}
		createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    BIGINT PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TIMESTAMPTZ NOT NULL)`
		insert = `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`
	}
	if _, err := tx.ExecContext(ctx, createTable); err != nil {
		return fmt.Errorf("store: migrate: create schema_migrations: %w", err)
	}

	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("store: migrate: apply %s: %w", m.name, err)
		}
		now := time.Now().UTC()
		var at any = now
		if dialect == DialectSQLite {
			at = now.Format(time.RFC3339Nano)
		}
		if _, err := tx.ExecContext(ctx, insert, m.version, m.name, at); err != nil {
			return fmt.Errorf("store: migrate: record %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: commit: %w", err)
	}
	return nil
}

// appliedVersions reads the versions schema_migrations records.
func appliedVersions(ctx context.Context, tx *sql.Tx) (map[int64]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: read versions: %w", err)
	}
	defer rows.Close()
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: migrate: read versions: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: migrate: read versions: %w", err)
	}
	return applied, nil
}

// Migration is one schema step of the store and whether a database has
// it (MigrationStatus).
type Migration struct {
	Version int64
	Name    string // the file's name without .sql: 0001_init
	Applied bool
}

// MigrationStatus connects to the database dsn names (as Open does) and
// reports every migration this version of the store knows, in order,
// with whether the database has applied it, without applying any: the
// pending ones are those Open would apply. A database never opened has
// them all pending.
func MigrationStatus(ctx context.Context, dsn string, drivers []Driver, opts ...Option) (_ []Migration, err error) {
	db, h, _, err := dial(ctx, dsn, drivers, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("store: close: %w", cerr)
		}
	}()
	ms, err := loadMigrations(h.dialect)
	if err != nil {
		return nil, err
	}
	exists := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if h.dialect == DialectPostgres {
		exists = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`
	}
	tx, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	applied := map[int64]bool{}
	if n > 0 {
		if applied, err = appliedVersions(ctx, tx); err != nil {
			return nil, err
		}
	}
	out := make([]Migration, len(ms))
	for i, m := range ms {
		out[i] = Migration{Version: m.version, Name: m.name, Applied: applied[m.version]}
	}
	return out, nil
}
