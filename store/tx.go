package store

import (
	"context"
	"fmt"

	"github.com/usermgmt/usermgmt"
)

// InTx implements usermgmt.Store. fn runs inside one write transaction
// (BEGIN IMMEDIATE on SQLite) and must do all its work through tx: on SQLite
// in memory, whose pool has a single connection, a call on db from inside fn
// waits for the transaction to end and so blocks until ctx is done. The
// transaction commits when fn returns nil and rolls back when it returns an
// error (returned as is) or panics (the panic goes on after the rollback).
// When every pooled connection is in use, BEGIN waits at most
// Pool.PoolWait (WithPoolWait) for one, then fails with
// usermgmt.ErrUnavailable.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx usermgmt.Store) error) error {
	btx, end, err := beginTx(ctx, db.bun, db.poolWait)
	if err != nil {
		return db.fail("begin transaction", err)
	}
	defer end()
	done := false
	defer func() {
		if !done {
			// fn failed or panicked; a panic resumes after this.
			_ = btx.Rollback()
		}
	}()

	if err := fn(ctx, &txStore{handle: handle{idb: btx, dialect: db.dialect, drv: db.drv, health: db.health}}); err != nil {
		done = true
		if rbErr := btx.Rollback(); rbErr != nil {
			return fmt.Errorf("%w (and rollback failed: %v)", err, rbErr)
		}
		return err
	}
	done = true
	if err := btx.Commit(); err != nil {
		return db.fail("commit", err)
	}
	return nil
}

// txStore is the Store InTx hands to its function: every call runs in the
// transaction.
type txStore struct {
	handle
}

var _ usermgmt.Store = (*txStore)(nil)

// InTx runs fn in the same transaction: nesting does not begin another, and
// fn's error is returned for the enclosing InTx to act on.
func (t *txStore) InTx(ctx context.Context, fn func(ctx context.Context, tx usermgmt.Store) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fn(ctx, t)
}

// Close does nothing: the transaction ends with its InTx, the pool with
// DB.Close.
func (t *txStore) Close() error { return nil }
