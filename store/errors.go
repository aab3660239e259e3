package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/usermgmt/usermgmt"
)

// classify asks the handle's driver what err means; a connection-level
// failure that no driver needs to name (a refused or reset socket, a
// connection database/sql gave up on, a deadline) is FailureUnavailable
// whatever the driver says, and a full disk is FailureFull.
func (h *handle) classify(err error) Failure {
	if err == nil {
		return Failure{}
	}
	if h.drv != nil {
		if f := h.drv.Classify(err); f.Kind != FailureOther {
			return f
		}
	}
	switch {
	case connectionFailure(err):
		return Failure{Kind: FailureUnavailable}
	case noSpace(err):
		return Failure{Kind: FailureFull}
	}
	return Failure{}
}

// connectionFailure reports whether err says the database could not be
// reached or lost the connection, in the terms of the standard library.
// The caller's own deadline or cancellation does not count (the caller
// knows its context is done); the store's own wait for a pooled
// connection (WithPoolWait) running out does.
func connectionFailure(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller gave up, even when a dial says so
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errPoolWait) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ETIMEDOUT) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// noSpace reports whether err is the system refusing a write for lack of
// space or quota.
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// fail wraps a database error for op ("insert user", ...): unique violations
// become usermgmt.ConflictOn, a foreign key naming a missing row and
// sql.ErrNoRows become usermgmt.ErrNotFound, a connection-level failure
// usermgmt.ErrUnavailable (logged once per outage), a full disk
// usermgmt.ErrInsufficientStorage, and everything else is wrapped as an
// internal error with its context. The driver tells which is which.
func (h *handle) fail(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", op, usermgmt.ErrNotFound)
	}
	switch f := h.classify(err); f.Kind {
	case FailureUnique:
		return fmt.Errorf("store: %s: %w", op, usermgmt.ConflictOn(f.Field, err))
	case FailureForeignKey:
		return fmt.Errorf("store: %s: %w: %w", op, usermgmt.ErrNotFound, err)
	case FailureBusy, FailureUnavailable:
		h.health.failed(op, err)
		return fmt.Errorf("store: %s: %w", op, usermgmt.ErrUnavailable.WithParam("part", "database").Wrap(err))
	case FailureFull:
		return fmt.Errorf("store: %s: %w", op, usermgmt.ErrInsufficientStorage.WithMessage("The database has no room left; nothing was saved.").Wrap(err))
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// notFound reports a missing row for op.
func notFound(op string) error {
	return fmt.Errorf("store: %s: %w", op, usermgmt.ErrNotFound)
}
