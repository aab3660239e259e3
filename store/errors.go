package store

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/usermgmt/usermgmt"
)

// classify asks the handle's driver what err means.
func (h *handle) classify(err error) Failure {
	if h.drv == nil || err == nil {
		return Failure{}
	}
	return h.drv.Classify(err)
}

// fail wraps a database error for op ("insert user", ...): unique violations
// become usermgmt.ConflictOn, a foreign key naming a missing row and
// sql.ErrNoRows become usermgmt.ErrNotFound, and everything else is wrapped
// as an internal error with its context. The driver tells which is which.
func (h *handle) fail(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", op, usermgmt.ErrNotFound)
	}
	switch f := h.classify(err); f.Kind {
	case FailureUnique:
		return fmt.Errorf("store: %s: %w", op, usermgmt.ConflictOn(f.Field, err))
	case FailureForeignKey:
		return fmt.Errorf("store: %s: %w: %w", op, usermgmt.ErrNotFound, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// notFound reports a missing row for op.
func notFound(op string) error {
	return fmt.Errorf("store: %s: %w", op, usermgmt.ErrNotFound)
}
