package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// TestOpen: a plain path, ":memory:" and a sqlite:// DSN open a migrated
// SQLite store; a PostgreSQL DSN is refused without a connection attempt,
// since this package links no PostgreSQL driver.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "app.db")
	for _, name := range []string{path, ":memory:", "sqlite://" + filepath.Join(t.TempDir(), "dsn.db")} {
		db, err := sqlite.Open(ctx, name)
		if err != nil {
			t.Fatalf("Open(%q): %v", name, err)
		}
		if db.Dialect() != store.DialectSQLite {
			t.Errorf("Open(%q).Dialect() = %q", name, db.Dialect())
		}
		if n, err := db.CountUsers(ctx); err != nil || n != 0 {
			t.Errorf("Open(%q): CountUsers = %d, %v", name, n, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database file: %v, %v; want mode 0600", fi, err)
	}

	db, err := sqlite.Open(ctx, "postgres://u:secret@127.0.0.1:1/app")
	if err == nil {
		db.Close()
		t.Fatal("sqlite.Open opened a PostgreSQL DSN")
	}
	if !errors.Is(err, store.ErrNoDriver) {
		t.Errorf("error %v does not wrap store.ErrNoDriver", err)
	}
}
