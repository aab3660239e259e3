package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/anydb"
	"github.com/usermgmt/usermgmt/store/storetest"
)

// openStore opens dsn for t or fails it.
func openStore(t testing.TB, dsn string, opts ...store.Option) *store.DB {
	t.Helper()
	db, err := anydb.Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformanceSQLiteFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) usermgmt.Store {
		return openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "test.db"))
	})
}

func TestConformanceSQLiteMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) usermgmt.Store {
		return openStore(t, "sqlite://:memory:")
	})
}

func TestConformancePostgres(t *testing.T) {
	// One probe, so that without a server the whole suite skips (or, in CI,
	// fails) once.
	testpg.DSN(t)
	storetest.Run(t, func(t *testing.T) usermgmt.Store {
		return openStore(t, testpg.DSN(t))
	})
}
