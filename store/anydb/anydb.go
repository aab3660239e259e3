// Package anydb opens the usermgmt store on whichever database a DSN names,
// SQLite or PostgreSQL, as examples/server does with DATABASE_URI: it links
// both drivers. A host that uses one database imports store/sqlite or
// store/postgres instead, and its binary carries that one only.
//
//	st, err := anydb.Open(ctx, os.Getenv("DATABASE_URI"))
package anydb

import (
	"context"

	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/postgres"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// Open opens the database dsn names, in any form store.Open accepts, and
// applies the pending migrations.
func Open(ctx context.Context, dsn string, opts ...store.Option) (*store.DB, error) {
	return store.Open(ctx, dsn, Drivers(), opts...)
}

// Drivers returns the SQLite and the PostgreSQL store.Driver.
func Drivers() []store.Driver {
	return []store.Driver{sqlite.Driver(), postgres.Driver()}
}

// MigrationStatus reports the store's migrations and which of them the
// database dsn names has applied, applying none (store.MigrationStatus).
func MigrationStatus(ctx context.Context, dsn string, opts ...store.Option) ([]store.Migration, error) {
	return store.MigrationStatus(ctx, dsn, Drivers(), opts...)
}
