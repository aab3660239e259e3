package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// errPoolWait is the cause of a transaction that found no free connection
// in the pool within Pool.PoolWait.
var errPoolWait = errors.New("store: no pooled connection became free in time")

// health tracks whether the database is reachable, so that an outage is
// logged once when it starts and once when it ends, not once per request.
// A nil *health logs nothing.
type health struct {
	log     *slog.Logger
	dialect string
	down    atomic.Bool
}

// failed records a connection-level failure of op; the first of an outage
// is logged at ERROR.
func (s *health) failed(op string, err error) {
	if s == nil || !s.down.CompareAndSwap(false, true) {
		return
	}
	s.log.Error("store: database unavailable; requests answer 503 until it is back",
		"database", s.dialect, "op", op, "err", err)
}

// ok records a statement the database answered; the first after an outage
// is logged.
func (s *health) ok() {
	if s == nil || !s.down.Load() || !s.down.CompareAndSwap(true, false) {
		return
	}
	s.log.Info("store: database reachable again", "database", s.dialect)
}

// BeforeQuery implements bun.QueryHook.
func (s *health) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

// AfterQuery implements bun.QueryHook: any statement the database answers
// (with rows, no rows or a refusal of its own such as a constraint) ends an
// outage.
func (s *health) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if e.Err == nil || errors.Is(e.Err, sql.ErrNoRows) {
		s.ok()
	}
}

// beginTx begins a transaction on db, waiting at most wait for a pooled
// connection (wait <= 0: as long as ctx allows); a wait that runs out is
// errPoolWait. The caller calls end once the transaction has committed or
// rolled back.
func beginTx(ctx context.Context, db *bun.DB, wait time.Duration) (tx bun.Tx, end func(), err error) {
	if wait <= 0 {
		tx, err = db.BeginTx(ctx, nil)
		return tx, func() {}, err
	}
	txCtx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(wait, func() { cancel(errPoolWait) })
	tx, err = db.BeginTx(txCtx, nil)
	if !timer.Stop() {
		// The wait ran out while BEGIN was under way: its context is
		// cancelled, so even a transaction that began is unusable.
		if err == nil {
			_ = tx.Rollback()
		}
		cancel(nil)
		if ctx.Err() == nil {
			err = fmt.Errorf("%w (waited %s)", errPoolWait, wait)
		}
		return bun.Tx{}, func() {}, err
	}
	if err != nil {
		cancel(nil)
		return bun.Tx{}, func() {}, err
	}
	return tx, func() { cancel(nil) }, nil
}

// Ping implements usermgmt.Pinger: one SELECT 1 on a pooled connection,
// within ctx (a readiness probe's short timeout).
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.bun.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}
