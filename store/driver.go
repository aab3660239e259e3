package store

import (
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

// A Driver connects the store to one database system. The packages
// store/sqlite and store/postgres provide one each, so that a binary links
// only the database drivers its host imports; a host passes those to Open
// (or calls the package's own Open, which does). The store calls the
// methods; a host has no need to.
type Driver interface {
	// Dialect is DialectSQLite or DialectPostgres: which DSNs Open hands to
	// the driver, and which schema and SQL the store uses with it.
	Dialect() string
	// Connect returns a pool over the database at location, configured as
	// pool says, without waiting for the database (Open pings it). The
	// location is what Open read from the DSN: for SQLite a file path or
	// ":memory:", for PostgreSQL a postgresql:// URL. An error about the
	// location itself wraps ErrBadDSN, and no error quotes the location,
	// which may hold a password; Open returns the errors as they are.
	Connect(location string, pool Pool) (*bun.DB, error)
	// Classify says what an error of the database means to the store.
	Classify(err error) Failure
}

// ErrNoDriver is wrapped by Open's error when the DSN names a database none
// of the Drivers passed to it opens.
var ErrNoDriver = errors.New("store: no driver for the DSN's database")

// FailureKind is a class of database errors the store answers in its own
// way.
type FailureKind int

// The failures a Driver tells apart; any other error is FailureOther.
const (
	// FailureOther is an error the store only wraps.
	FailureOther FailureKind = iota
	// FailureUnique is a unique or primary-key violation: the store
	// answers usermgmt.ConflictOn(Failure.Field).
	FailureUnique
	// FailureForeignKey is a row naming a missing parent: the store
	// answers usermgmt.ErrNotFound.
	FailureForeignKey
	// FailureConstraint is another integrity violation (NOT NULL, CHECK):
	// an import reports the row it came from as a bad upload.
	FailureConstraint
	// FailureBusy is SQLite's SQLITE_BUSY: another connection held the
	// write lock for longer than the busy timeout. The store answers
	// usermgmt.ErrUnavailable.
	FailureBusy
	// FailureUnavailable is a connection-level failure: the database
	// refused or dropped the connection, timed out, is shutting down or
	// starting up, or has no connection slot left. The store answers
	// usermgmt.ErrUnavailable (the request may succeed later) and logs the
	// outage once.
	FailureUnavailable
	// FailureFull is a write refused for lack of space (PostgreSQL's
	// disk_full, SQLite's SQLITE_FULL): the store answers
	// usermgmt.ErrInsufficientStorage.
	FailureFull
)

// Failure is what a database error means to the store, as its Driver
// classifies it.
type Failure struct {
	Kind FailureKind
	// Field is, for FailureUnique, the field the violated constraint
	// protects ("username", "email", "uuid", "id", ...), or the
	// constraint's name as the database reports it when the driver does not
	// know it.
	Field string
}

// constraintViolation reports whether f is an integrity violation of any
// kind (SQLSTATE class 23 on PostgreSQL, SQLITE_CONSTRAINT on SQLite).
func (f Failure) constraintViolation() bool {
	return f.Kind == FailureUnique || f.Kind == FailureForeignKey || f.Kind == FailureConstraint
}

// driverFor returns the driver of drivers for dialect.
func driverFor(dialect string, drivers []Driver) (Driver, error) {
	for _, d := range drivers {
		if d != nil && d.Dialect() == dialect {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: the DSN names %s; pass the Driver of store/%s (or use its Open)", ErrNoDriver, dialect, dialect)
}
