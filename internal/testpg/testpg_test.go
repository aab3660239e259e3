package testpg

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestDSNGivesAFreshDatabaseAndDropsIt(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		dsn := DSN(t)
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		if err := db.QueryRowContext(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "usermgmt_test_") {
			t.Errorf("database %q lacks the usermgmt_test_ prefix", name)
		}
		var tables int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("fresh database has %d tables", tables)
		}
		// An open connection must not keep the cleanup from dropping it.
		if _, err := db.ExecContext(ctx, "CREATE TABLE t (x int)"); err != nil {
			t.Fatal(err)
		}
	})
	if name == "" {
		return // skipped: no server configured
	}

	admin, err := sql.Open("pgx", os.Getenv(EnvVar))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRow("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after the test", name)
	}
}

func TestDSNNamesAreUnique(t *testing.T) {
	a, b := DSN(t), DSN(t)
	if a == b {
		t.Fatalf("two calls returned the same DSN %q", a)
	}
}

// TestHelperNeedsPostgres is run as a subprocess by TestMissingServer.
func TestHelperNeedsPostgres(t *testing.T) {
	if os.Getenv("TESTPG_HELPER") != "1" {
		return
	}
	DSN(t)
	t.Log("unreachable without a server")
}

func TestMissingServer(t *testing.T) {
	tests := []struct {
		name     string
		ci       string
		wantFail bool
		wantOut  string
	}{
		{"CI fails", "true", true, "must run"},
		{"locally skips", "", false, "run scripts/test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNeedsPostgres$", "-test.v")
			cmd.Env = append(os.Environ(), "TESTPG_HELPER=1", EnvVar+"=", "CI="+tt.ci)
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tt.wantFail {
				t.Errorf("failed = %v, want %v; output:\n%s", failed, tt.wantFail, out)
			}
			if !strings.Contains(string(out), tt.wantOut) {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out)
			}
		})
	}
}
