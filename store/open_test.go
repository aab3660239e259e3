package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/anydb"
)

func closeStore(t testing.TB, db *store.DB) {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func user(n int) *usermgmt.User {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	return &usermgmt.User{
		UUID:      fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		Username:  fmt.Sprintf("user_%06d", n),
		Email:     fmt.Sprintf("user%06d@example.com", n),
		OTPMethod: usermgmt.OTPNone,
		Roles:     []string{"user"},
		IsActive:  true,
		CreatedAt: now,
		UpdatedAt: now,
	}
}

func TestOpenSQLiteSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "dirs", "app.db")
	db := openStore(t, "sqlite://"+path)
	defer closeStore(t, db)

	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	if got := db.Dialect(); got != store.DialectSQLite {
		t.Errorf("Dialect = %q", got)
	}
	ctx := context.Background()
	// Several connections at once, so that each is checked, not only the first.
	conns := make([]interface{ Close() error }, 0, 3)
	for range 3 {
		conn, err := db.Bun().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		pragmas := []struct{ name, want string }{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"synchronous", "1"}, // NORMAL
			{"busy_timeout", "5000"},
		}
		for _, p := range pragmas {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != p.want {
				t.Errorf("PRAGMA %s = %s, want %s", p.name, got, p.want)
			}
		}
	}
	for _, c := range conns {
		c.Close()
	}
	stats := db.Bun().Stats()
	if stats.MaxOpenConnections < 1 {
		t.Errorf("MaxOpenConnections = %d", stats.MaxOpenConnections)
	}
	if stats.Idle != 3 {
		t.Errorf("%d idle connections after using 3, want 3 kept", stats.Idle)
	}
}

func TestOpenBusyTimeoutOption(t *testing.T) {
	db := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "app.db"), store.WithBusyTimeout(1500*time.Millisecond), store.WithMaxOpenConns(3))
	defer closeStore(t, db)
	var got int
	if err := db.Bun().QueryRowContext(context.Background(), "PRAGMA busy_timeout").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != 1500 {
		t.Errorf("busy_timeout = %d, want 1500", got)
	}
	if n := db.Bun().Stats().MaxOpenConnections; n != 3 {
		t.Errorf("MaxOpenConnections = %d, want 3", n)
	}
}

func TestOpenRelativePaths(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tt := range []struct{ dsn, file string }{
		{"sqlite://data/app.db", "data/app.db"},
		{"sqlite+aiosqlite:///python/Project.db", "python/Project.db"},
		{"sqlite+aiosqlite:////" + strings.TrimPrefix(filepath.Join(dir, "abs", "x.db"), "/"), "abs/x.db"},
	} {
		db := openStore(t, tt.dsn)
		if err := db.InsertUser(context.Background(), user(1)); err != nil {
			t.Errorf("%s: %v", tt.dsn, err)
		}
		closeStore(t, db)
		if _, err := os.Stat(filepath.Join(dir, tt.file)); err != nil {
			t.Errorf("%s: %v", tt.dsn, err)
		}
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "app.db")
	ctx := context.Background()
	db := openStore(t, dsn)
	if err := db.InsertUser(ctx, user(1)); err != nil {
		t.Fatal(err)
	}
	closeStore(t, db)

	db = openStore(t, dsn)
	defer closeStore(t, db)
	if _, err := db.UserByUUID(ctx, user(1).UUID); err != nil {
		t.Errorf("after reopening: %v", err)
	}
	checkMigrationsOnce(t, db)
}

func TestMemoryIsOneDatabasePerOpen(t *testing.T) {
	ctx := context.Background()
	a, b := openStore(t, "sqlite://:memory:"), openStore(t, "sqlite://:memory:")
	defer closeStore(t, a)
	defer closeStore(t, b)
	if err := a.InsertUser(ctx, user(1)); err != nil {
		t.Fatal(err)
	}
	// Every goroutine, whatever connection it would get, sees the write.
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := a.UserByUUID(ctx, user(1).UUID); err != nil {
				t.Errorf("UserByUUID: %v", err)
			}
		}()
	}
	wg.Wait()
	if n, err := b.CountUsers(ctx); err != nil || n != 0 {
		t.Errorf("another in-memory store holds %d users (%v), want 0", n, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		dsn  string
		want string
	}{
		{"unknown scheme", "mysql://root:secret@localhost/app", "unsupported scheme"},
		{"no scheme", "root:secret@localhost/app", "no scheme"},
		{"bad port", "postgres://root:secret@localhost:nope/app", "invalid DSN"},
		{"bad option", "postgres://root:secret@localhost/app?sslmode=maybe", "invalid DSN"},
		{"unreachable server", "postgres://root:secret@127.0.0.1:1/app?connect_timeout=2&sslmode=disable", "connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := anydb.Open(ctx, tt.dsn)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

// checkMigrationsOnce fails t unless every migration is recorded exactly once.
func checkMigrationsOnce(t *testing.T, db *store.DB) {
	t.Helper()
	rows, err := db.Bun().QueryContext(context.Background(), "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	// Every embedded migration is recorded once, numbered 1, 2, 3 ... with
	// no gap.
	want := 0
	for rows.Next() {
		var v, n int
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		want++
		if v != want || n != 1 {
			t.Errorf("migration %d recorded %d times, want migration %d once", v, n, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want == 0 {
		t.Error("no migration recorded")
	}
}

// testConcurrentOpen opens one fresh database from several goroutines at
// once, as several processes starting together would.
func testConcurrentOpen(t *testing.T, dsn string) {
	const openers = 8
	ctx := context.Background()
	dbs := make([]*store.DB, openers)
	errs := make([]error, openers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range openers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			dbs[i], errs[i] = anydb.Open(ctx, dsn, store.WithMaxOpenConns(2))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
		}
	}
	for _, db := range dbs {
		if db != nil {
			defer closeStore(t, db)
		}
	}
	if t.Failed() {
		return
	}
	checkMigrationsOnce(t, dbs[0])
	// Every handle works on the one schema.
	for i, db := range dbs {
		if err := db.InsertUser(ctx, user(i)); err != nil {
			t.Errorf("InsertUser through handle %d: %v", i, err)
		}
	}
	if n, err := dbs[0].CountUsers(ctx); err != nil || n != openers {
		t.Errorf("CountUsers = %d, %v; want %d", n, err, openers)
	}
}

func TestConcurrentOpenSQLite(t *testing.T) {
	testConcurrentOpen(t, "sqlite://"+filepath.Join(t.TempDir(), "fresh.db"))
}

func TestConcurrentOpenPostgres(t *testing.T) {
	testConcurrentOpen(t, testpg.DSN(t))
}

// TestSQLiteConcurrentWriters hammers one file database with transactions
// and plain writes from many goroutines: SQLite's lock must never reach a
// caller as an error.
func TestSQLiteConcurrentWriters(t *testing.T) {
	db := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "busy.db"))
	defer closeStore(t, db)
	ctx := context.Background()

	const (
		goroutines = 50
		rounds     = 10
	)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*rounds)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				n := g*rounds + r
				var err error
				if g%2 == 0 {
					// Read, then write, in one transaction: the pattern that
					// fails with SQLITE_BUSY under deferred transactions.
					err = db.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
						if _, err := tx.CountUsers(ctx); err != nil {
							return err
						}
						if err := tx.InsertUser(ctx, user(n)); err != nil {
							return err
						}
						return tx.AppendAudit(ctx, &usermgmt.AuditEntry{Time: time.Now(), SubjectUUID: user(n).UUID, Action: usermgmt.AuditUserCreated})
					})
				} else {
					if err = db.InsertUser(ctx, user(n)); err == nil {
						err = db.AppendAudit(ctx, &usermgmt.AuditEntry{Time: time.Now(), SubjectUUID: user(n).UUID, Action: usermgmt.AuditLogin})
					}
					if err == nil {
						_, err = db.UserByUUID(ctx, user(n).UUID)
					}
				}
				if err != nil {
					errs <- fmt.Errorf("goroutine %d round %d: %w", g, r, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != goroutines*rounds {
		t.Errorf("CountUsers = %d, %v; want %d", n, err, goroutines*rounds)
	}
	entries, err := db.Audit(ctx, usermgmt.AuditQuery{Limit: 1000})
	if err != nil || len(entries) != goroutines*rounds {
		t.Errorf("%d audit entries (%v), want %d", len(entries), err, goroutines*rounds)
	}
}

// TestPostgresPoolKeepsIdleConns checks that connections opened by a burst
// of parallel requests stay in the pool instead of being closed and redialled.
func TestPostgresPoolKeepsIdleConns(t *testing.T) {
	const size = 6
	db := openStore(t, testpg.DSN(t), store.WithMaxOpenConns(size))
	defer closeStore(t, db)
	ctx := context.Background()
	if got := db.Dialect(); got != store.DialectPostgres {
		t.Errorf("Dialect = %q", got)
	}
	if err := db.InsertUser(ctx, user(1)); err != nil {
		t.Fatal(err)
	}

	burst := func() {
		var wg sync.WaitGroup
		for range 4 * size {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := db.UserByUUID(ctx, user(1).UUID); err != nil {
					t.Error(err)
					return
				}
				// Hold a connection a moment, so the burst needs several.
				_, err := db.Bun().ExecContext(ctx, "SELECT pg_sleep(0.02)")
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	burst()
	first := db.Bun().Stats()
	burst()
	second := db.Bun().Stats()

	if first.MaxOpenConnections != size {
		t.Errorf("MaxOpenConnections = %d, want %d", first.MaxOpenConnections, size)
	}
	if first.Idle != first.OpenConnections || first.OpenConnections < 2 {
		t.Errorf("after a burst: %d open, %d idle; want several, all kept idle", first.OpenConnections, first.Idle)
	}
	if second.MaxIdleClosed != 0 || second.MaxIdleTimeClosed != 0 || second.MaxLifetimeClosed != 0 {
		t.Errorf("connections were closed: %+v", second)
	}
	if second.OpenConnections > size {
		t.Errorf("%d connections open, more than the pool's %d", second.OpenConnections, size)
	}
	// No new connection dialled for the second burst beyond filling the pool.
	var backends int
	if err := db.Bun().QueryRowContext(ctx,
		"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'usermgmt'").Scan(&backends); err != nil {
		t.Fatal(err)
	}
	if backends != second.OpenConnections {
		t.Errorf("%d server backends, %d pooled connections", backends, second.OpenConnections)
	}
}

func TestTxStoreCloseIsHarmless(t *testing.T) {
	db := openStore(t, "sqlite://:memory:")
	defer closeStore(t, db)
	ctx := context.Background()
	err := db.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		if err := tx.Close(); err != nil {
			return err
		}
		return tx.InsertUser(ctx, user(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UserByUUID(ctx, user(1).UUID); err != nil {
		t.Error(err)
	}
	if err := db.InsertUser(ctx, &usermgmt.User{Username: "no_uuid", Email: "x@example.com"}); !errors.Is(err, usermgmt.ErrInvalidUUID) {
		t.Errorf("InsertUser without a UUID: %v, want ErrInvalidUUID", err)
	}
}

// A new SQLite file, which holds password and token hashes, is readable by
// its owner only; an existing file keeps its mode.
func TestSQLiteFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "private.db")
	db, err := anydb.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range []string{path, path + "-wal"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("stat %s: %v", name, err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(name), mode)
		}
	}
	shared := filepath.Join(dir, "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	db2, err := anydb.Open(context.Background(), "sqlite://"+shared)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if fi, _ := os.Stat(shared); fi.Mode().Perm() != 0o640 {
		t.Errorf("an existing file's mode changed to %o", fi.Mode().Perm())
	}
}
