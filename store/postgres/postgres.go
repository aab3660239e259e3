// Package postgres opens the usermgmt store (package store) on PostgreSQL,
// through pgx and bun's PostgreSQL dialect. A host that keeps its users in
// PostgreSQL imports this package only, and its binary does not link
// SQLite:
//
//	st, err := postgres.Open(ctx, "postgres://app@db:5432/app?sslmode=disable")
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//	m, err := usermgmt.New(usermgmt.Config{Store: st, ...})
//
// Statements go over pgx's simple protocol (bun sends them complete, with
// their values quoted in: one round trip each, no prepared statement per
// text), and the connections carry application_name "usermgmt" unless the
// DSN or store.WithApplicationName says otherwise.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/usermgmt/usermgmt/store"
)

// Open connects to the PostgreSQL database dsn names and applies the
// pending migrations. dsn is a URL of the PostgreSQL forms store.Open
// accepts: postgres://user:pw@host:5432/db?sslmode=disable, postgresql://...,
// postgresql+psycopg://... .
func Open(ctx context.Context, dsn string, opts ...store.Option) (*store.DB, error) {
	return store.Open(ctx, dsn, []store.Driver{Driver()}, opts...)
}

// Driver returns the PostgreSQL store.Driver, for store.Open.
func Driver() store.Driver { return driver{} }

// driver is the PostgreSQL store.Driver.
type driver struct{}

func (driver) Dialect() string { return store.DialectPostgres }

// defaultConnectTimeout bounds a dial to the server when the DSN sets no
// connect_timeout.
const defaultConnectTimeout = 5 * time.Second

// Connect opens the pgx pool for the postgresql:// URL.
func (driver) Connect(pgURL string, pool store.Pool) (*bun.DB, error) {
	pgcfg, err := pgx.ParseConfig(pgURL)
	if err != nil {
		// pgx redacts passwords only on a best-effort basis: keep just the
		// cause, never the connection string.
		var pce *pgconn.ParseConfigError
		if errors.As(err, &pce) {
			if cause := pce.Unwrap(); cause != nil {
				return nil, fmt.Errorf("%w: PostgreSQL DSN rejected: %v", store.ErrBadDSN, cause)
			}
		}
		return nil, fmt.Errorf("%w: PostgreSQL DSN rejected", store.ErrBadDSN)
	}
	// bun sends complete statements with their values quoted in: the simple
	// protocol runs each in one round trip, with no per-text prepared
	// statement.
	pgcfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	// A server that does not answer a dial (a host down, a dropped
	// network) fails the connection in this time rather than the
	// system's TCP timeout of minutes, unless the DSN's connect_timeout
	// says otherwise.
	if pgcfg.ConnectTimeout == 0 {
		pgcfg.ConnectTimeout = defaultConnectTimeout
	}
	if _, ok := pgcfg.RuntimeParams["application_name"]; !ok && pool.ApplicationName != "" {
		pgcfg.RuntimeParams["application_name"] = pool.ApplicationName
	}
	sqldb := stdlib.OpenDB(*pgcfg)
	pool.Apply(sqldb)
	return bun.NewDB(sqldb, pgdialect.New()), nil
}

// The SQLSTATEs the store maps.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgIntegrityClass      = "23" // integrity_constraint_violation
	pgConnectionClass     = "08" // connection_exception
	pgTooManyConnections  = "53300"
	pgDiskFull            = "53100"
	pgAdminShutdown       = "57P01" // the server is shutting down (smart or fast)
	pgCrashShutdown       = "57P02"
	pgCannotConnectNow    = "57P03" // starting up or shutting down
	pgDatabaseDropped     = "57P04"
)

// Classify reads PostgreSQL's SQLSTATE. A server that is shutting down,
// starting up, or out of connection slots, a connection exception and a
// connection attempt that failed (refused, timed out) are
// store.FailureUnavailable; disk_full is store.FailureFull.
func (driver) Classify(err error) store.Failure {
	if errors.Is(err, context.Canceled) {
		return store.Failure{} // the caller gave up, even during a dial
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		var ce *pgconn.ConnectError
		if errors.As(err, &ce) {
			return store.Failure{Kind: store.FailureUnavailable}
		}
		return store.Failure{}
	}
	switch {
	case pe.Code == pgAdminShutdown || pe.Code == pgCrashShutdown || pe.Code == pgCannotConnectNow ||
		pe.Code == pgDatabaseDropped || pe.Code == pgTooManyConnections || strings.HasPrefix(pe.Code, pgConnectionClass):
		return store.Failure{Kind: store.FailureUnavailable}
	case pe.Code == pgDiskFull:
		return store.Failure{Kind: store.FailureFull}
	case pe.Code == pgUniqueViolation:
		field, ok := conflictFields[pe.ConstraintName]
		if !ok {
			field = pe.ConstraintName
		}
		return store.Failure{Kind: store.FailureUnique, Field: field}
	case pe.Code == pgForeignKeyViolation:
		return store.Failure{Kind: store.FailureForeignKey}
	case strings.HasPrefix(pe.Code, pgIntegrityClass):
		return store.Failure{Kind: store.FailureConstraint}
	}
	return store.Failure{}
}

// conflictFields names the field each unique constraint or index of the
// PostgreSQL schema (store's migrations/postgres) protects.
var conflictFields = map[string]string{
	"users_pkey":            "uuid",
	"users_username_key":    "username",
	"users_email_lower_key": "email",
	"sessions_pkey":         "id",
	"files_owner_name_key":  "file_name",

	"external_identities_pkey":              "external_identity",
	"external_identities_user_provider_key": "external_provider",
	"oauth_states_pkey":                     "state",
}
