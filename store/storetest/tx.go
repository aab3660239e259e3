package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

var txCases = []testCase{
	{"Commit", testTxCommit},
	{"RollbackOnError", testTxRollback},
	{"RollbackOnPanic", testTxPanic},
	{"Nested", testTxNested},
	{"NestedErrorRollsBackAll", testTxNestedError},
	{"ConflictInside", testTxConflict},
	{"LockUser", testLockUser},
}

// writeAll writes a user, a session and an audit entry through st.
func writeAll(ctx context.Context, st usermgmt.Store, n int) error {
	u := newUser(n)
	if err := st.InsertUser(ctx, u); err != nil {
		return err
	}
	if err := st.InsertSession(ctx, newSession("sess-"+u.Username, u.UUID, n)); err != nil {
		return err
	}
	return st.AppendAudit(ctx, &usermgmt.AuditEntry{Time: t0, SubjectUUID: u.UUID, Action: usermgmt.AuditUserCreated})
}

// checkWritten fails t unless writeAll(n) is visible in st exactly when want.
func checkWritten(t *testing.T, st usermgmt.Store, n int, want bool) {
	t.Helper()
	ctx := context.Background()
	u := newUser(n)
	_, errU := st.UserByUUID(ctx, u.UUID)
	_, errS := st.SessionByID(ctx, "sess-"+u.Username)
	entries, errA := st.Audit(ctx, usermgmt.AuditQuery{SubjectUUID: u.UUID})
	if errA != nil {
		t.Fatal(errA)
	}
	if want {
		if errU != nil || errS != nil || len(entries) != 1 {
			t.Errorf("user %d: user err %v, session err %v, %d audit entries; want all written", n, errU, errS, len(entries))
		}
		return
	}
	if !errors.Is(errU, usermgmt.ErrNotFound) || !errors.Is(errS, usermgmt.ErrNotFound) || len(entries) != 0 {
		t.Errorf("user %d: user err %v, session err %v, %d audit entries; want nothing written", n, errU, errS, len(entries))
	}
}

func testTxCommit(t *testing.T, st fullStore) {
	ctx := context.Background()
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		if err := writeAll(ctx, tx, 1); err != nil {
			return err
		}
		// The transaction sees its own writes.
		if _, err := tx.UserByUUID(ctx, newUser(1).UUID); err != nil {
			t.Errorf("reading inside the transaction: %v", err)
		}
		if n, err := tx.CountUsers(ctx); err != nil || n != 1 {
			t.Errorf("CountUsers inside = %d, %v; want 1", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	checkWritten(t, st, 1, true)
}

func testTxRollback(t *testing.T, st fullStore) {
	ctx := context.Background()
	mustInsertUsers(t, st, newUser(9))
	boom := errors.New("boom")
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		if err := writeAll(ctx, tx, 1); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, newUser(9).UUID); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want fn's error", err)
	}
	checkWritten(t, st, 1, false)
	if _, err := st.UserByUUID(ctx, newUser(9).UUID); err != nil {
		t.Errorf("a delete inside a rolled back transaction stuck: %v", err)
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}
	// The store still works.
	if err := writeAll(ctx, st, 2); err != nil {
		t.Fatal(err)
	}
	checkWritten(t, st, 2, true)
}

func testTxPanic(t *testing.T, st fullStore) {
	ctx := context.Background()
	type sentinel struct{}
	func() {
		defer func() {
			if r := recover(); r != (sentinel{}) {
				t.Errorf("recovered %v, want the panic of fn", r)
			}
		}()
		_ = st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
			if err := writeAll(ctx, tx, 1); err != nil {
				t.Error(err)
			}
			panic(sentinel{})
		})
		t.Error("InTx returned after fn panicked")
	}()
	checkWritten(t, st, 1, false)
	// The connection went back to the pool in a usable state.
	if err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error { return writeAll(ctx, tx, 2) }); err != nil {
		t.Fatal(err)
	}
	checkWritten(t, st, 2, true)
}

func testTxNested(t *testing.T, st fullStore) {
	ctx := context.Background()
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		if err := writeAll(ctx, tx, 1); err != nil {
			return err
		}
		return tx.InTx(ctx, func(ctx context.Context, inner usermgmt.Store) error {
			// The inner Store is in the same transaction: it sees the
			// outer write.
			if _, err := inner.UserByUUID(ctx, newUser(1).UUID); err != nil {
				t.Errorf("nested InTx does not see the outer write: %v", err)
			}
			return writeAll(ctx, inner, 2)
		})
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	checkWritten(t, st, 1, true)
	checkWritten(t, st, 2, true)
}

func testTxNestedError(t *testing.T, st fullStore) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		if err := writeAll(ctx, tx, 1); err != nil {
			return err
		}
		return tx.InTx(ctx, func(ctx context.Context, inner usermgmt.Store) error {
			if err := writeAll(ctx, inner, 2); err != nil {
				return err
			}
			return boom
		})
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the nested error", err)
	}
	checkWritten(t, st, 1, false)
	checkWritten(t, st, 2, false)
}

func testTxConflict(t *testing.T, st fullStore) {
	ctx := context.Background()
	mustInsertUsers(t, st, newUser(1))
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		if err := writeAll(ctx, tx, 2); err != nil {
			return err
		}
		dup := newUser(3)
		dup.Username = newUser(1).Username
		return tx.InsertUser(ctx, dup)
	})
	checkConflict(t, "InTx", err, "username")
	checkWritten(t, st, 2, false)
}

// testLockUser: a read-modify-write through LockUser inside InTx cannot lose
// a concurrent transaction's change to the same user.
func testLockUser(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u)
	got, err := st.LockUser(ctx, u.UUID)
	if err != nil {
		t.Fatalf("LockUser outside a transaction: %v", err)
	}
	checkUser(t, "LockUser", got, wantUser(u))
	_, err = st.LockUser(ctx, "00000000-0000-4000-8000-000000000000")
	checkNotFound(t, "LockUser of a missing user", err)

	appendDesc := func(tx usermgmt.Store, suffix string, hold func()) error {
		cur, err := tx.LockUser(ctx, u.UUID)
		if err != nil {
			return err
		}
		hold()
		cur.Description += suffix
		return tx.UpdateUser(ctx, cur)
	}
	locked := make(chan struct{})
	aDone := make(chan error, 1)
	go func() {
		aDone <- st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
			return appendDesc(tx, "A", func() {
				close(locked)
				time.Sleep(100 * time.Millisecond) // let B reach its lock
			})
		})
	}()
	<-locked
	bErr := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		return appendDesc(tx, "B", func() {})
	})
	if err := <-aDone; err != nil {
		t.Fatalf("transaction A: %v", err)
	}
	if bErr != nil {
		t.Fatalf("transaction B: %v", bErr)
	}
	final, err := st.UserByUUID(ctx, u.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if want := u.Description + "AB"; final.Description != want {
		t.Errorf("description = %q, want %q: a concurrent change was lost", final.Description, want)
	}
}
