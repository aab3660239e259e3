package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/internal/testlog"
	"github.com/usermgmt/usermgmt/store"
)

// TestPoolWaitAnswersUnavailable: with every pooled connection held by a
// transaction, another transaction fails after the pool wait with
// usermgmt.ErrUnavailable (503), the outage is logged once however many
// requests fail, and once the connection is free the store works again
// and says so once.
func TestPoolWaitAnswersUnavailable(t *testing.T) {
	var logs testlog.Buffer
	db := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "app.db"),
		store.WithMaxOpenConns(1), store.WithPoolWait(50*time.Millisecond), store.WithLogger(logs.Logger()))
	defer closeStore(t, db)
	ctx := context.Background()

	release := holdTx(t, db, func(ctx context.Context, tx usermgmt.Store) error { return tx.InsertUser(ctx, user(1)) })

	for range 3 {
		start := time.Now()
		err := db.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
			t.Error("fn ran without a connection")
			return nil
		})
		if !errors.Is(err, usermgmt.ErrUnavailable) {
			t.Fatalf("InTx on a full pool = %v, want ErrUnavailable", err)
		}
		if e := usermgmt.AsError(err); e.Status != 503 || e.Params["part"] != "database" {
			t.Errorf("error %+v: want status 503 naming the database", e)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("InTx waited %v with a pool wait of 50ms", d)
		}
	}
	if got := logs.Lines("database unavailable"); len(got) != 1 || !strings.Contains(got[0], "level=ERROR") {
		t.Errorf("outage lines %q, want one ERROR line for three failures", got)
	}

	release()
	if _, err := db.UserByUUID(ctx, user(1).UUID); err != nil {
		t.Fatalf("after the pool is free: %v", err)
	}
	if got := logs.Lines("database reachable again"); len(got) != 1 {
		t.Errorf("recovery lines %q, want one", got)
	}
}

// TestSQLiteBusyAnswersUnavailable: a writer that finds the write lock held
// past the busy timeout gets usermgmt.ErrUnavailable, not an internal
// error.
func TestSQLiteBusyAnswersUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	var logs testlog.Buffer
	db := openStore(t, "sqlite://"+path, store.WithBusyTimeout(20*time.Millisecond), store.WithLogger(logs.Logger()))
	defer closeStore(t, db)
	other := openStore(t, "sqlite://"+path)
	defer closeStore(t, other)
	ctx := context.Background()

	release := holdTx(t, other, func(context.Context, usermgmt.Store) error { return nil })
	err := db.InsertUser(ctx, user(2))
	release()
	if !errors.Is(err, usermgmt.ErrUnavailable) {
		t.Fatalf("insert while another process holds the write lock = %v, want ErrUnavailable", err)
	}
	if got := logs.Lines("database unavailable"); len(got) != 1 {
		t.Errorf("outage lines %q, want one", got)
	}
}

// TestSQLiteFullAnswersInsufficientStorage: a write the database refuses
// for lack of room (SQLITE_FULL, here through max_page_count on the one
// connection of an in-memory database) is usermgmt.ErrInsufficientStorage
// (507) and leaves no row.
func TestSQLiteFullAnswersInsufficientStorage(t *testing.T) {
	db := openStore(t, "sqlite://:memory:")
	defer closeStore(t, db)
	ctx := context.Background()
	var pages int
	if err := db.Bun().QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Bun().ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	var err error
	n := 0
	for ; n < 1000 && err == nil; n++ {
		u := user(100 + n)
		u.Description = strings.Repeat("x", 200)
		err = db.InsertUser(ctx, u)
	}
	if !errors.Is(err, usermgmt.ErrInsufficientStorage) {
		t.Fatalf("insert into a full database = %v, want ErrInsufficientStorage", err)
	}
	if e := usermgmt.AsError(err); e.Status != 507 {
		t.Errorf("status %d, want 507", e.Status)
	}
	if _, gErr := db.UserByUUID(ctx, user(100+n-1).UUID); !errors.Is(gErr, usermgmt.ErrNotFound) {
		t.Errorf("the refused user: %v, want no row", gErr)
	}
}

// holdTx begins a transaction on db and keeps it (and its connection, and
// on SQLite the write lock) until release is called, which then runs last
// in it and checks that the transaction committed.
func holdTx(t *testing.T, db *store.DB, last func(context.Context, usermgmt.Store) error) (release func()) {
	t.Helper()
	held := make(chan struct{})
	free := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.InTx(context.Background(), func(ctx context.Context, tx usermgmt.Store) error {
			close(held)
			<-free
			return last(ctx, tx)
		})
	}()
	<-held
	return func() {
		t.Helper()
		close(free)
		if err := <-done; err != nil {
			t.Fatalf("the holding transaction: %v", err)
		}
	}
}
