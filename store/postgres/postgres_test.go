package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/postgres"
)

// TestOpen: a PostgreSQL DSN opens a migrated store; a SQLite DSN is
// refused (this package links no SQLite), and a DSN pgx rejects is a
// store.ErrBadDSN that does not quote the password.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, testpg.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Dialect() != store.DialectPostgres {
		t.Errorf("Dialect() = %q", db.Dialect())
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 0 {
		t.Errorf("CountUsers = %d, %v", n, err)
	}

	if db, err := postgres.Open(ctx, "sqlite://data/app.db"); err == nil || !errors.Is(err, store.ErrNoDriver) {
		if db != nil {
			db.Close()
		}
		t.Errorf("a SQLite DSN: %v; want store.ErrNoDriver", err)
	}
	_, err = postgres.Open(ctx, "postgres://u:secret@localhost/app?sslmode=maybe")
	if !errors.Is(err, store.ErrBadDSN) || strings.Contains(err.Error(), "secret") {
		t.Errorf("a bad sslmode: %v; want store.ErrBadDSN without the password", err)
	}
}
