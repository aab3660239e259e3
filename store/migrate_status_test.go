package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// TestMigrationStatus (issue 19 item 5, `server migrate --status`): on a
// database never opened every migration is pending and asking applies
// none; after Open every one is applied, in version order.
func TestMigrationStatus(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "db.sqlite") },
		"postgres": func(t *testing.T) string { return testpg.DSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dsn := dsn(t)
			for range 2 { // asking twice: the first asking applied nothing
				ms, err := anydb.MigrationStatus(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				if len(ms) < 9 { // 0001 to 0009 at least
					t.Fatalf("%d migrations", len(ms))
				}
				for _, m := range ms {
					if m.Applied {
						t.Fatalf("%s applied on a database never opened", m.Name)
					}
				}
			}
			st, err := anydb.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			closeStore(t, st)
			ms, err := anydb.MigrationStatus(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range ms {
				if !m.Applied || m.Version <= 0 || !strings.HasPrefix(m.Name, fmt.Sprintf("%04d_", m.Version)) {
					t.Errorf("migration %d = %+v", i, m)
				}
				if i > 0 && ms[i-1].Version >= m.Version {
					t.Errorf("out of order: %+v before %+v", ms[i-1], m)
				}
			}
			if _, err := anydb.MigrationStatus(ctx, "mysql://x"); err == nil {
				t.Error("a DSN of no store answered")
			}
		})
	}
}
