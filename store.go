package usermgmt

import (
	"context"
	"io"
	"time"
)

// Store is everything the Manager persists through. The store package
// implements it over SQLite and PostgreSQL (store.Open); store/storetest is the
// conformance suite any implementation must pass.
//
// Conventions for every implementation:
//   - a missing row is an error matching ErrNotFound;
//   - a unique-constraint violation is ConflictOn(field, cause), which matches
//     ErrConflict, never a driver error;
//   - returned values are fresh copies the caller may keep and modify;
//   - times are stored and returned in UTC with at least microsecond precision.
type Store interface {
	UserStore
	SessionStore
	AuditStore
	DumpStore

	// InTx runs fn inside one write transaction. The Store handed to fn works
	// within it; fn's error (or a panic) rolls the transaction back. Nested
	// calls on the transaction's Store run in the same transaction.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error

	// Close releases the database handles.
	Close() error
}

// UserStore persists users. Usernames are unique; emails are unique without
// regard to case.
type UserStore interface {
	// InsertUser stores a new user. Conflicts name the field "username",
	// "email" or "uuid".
	InsertUser(ctx context.Context, u *User) error
	// UserByUUID, UserByUsername and UserByEmail load one user; UserByEmail
	// matches without regard to case.
	UserByUUID(ctx context.Context, uuid string) (*User, error)
	UserByUsername(ctx context.Context, username string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	// LockUser loads a user like UserByUUID and, inside InTx, keeps other
	// transactions from writing the row until this one ends (SELECT ... FOR
	// UPDATE), so a read-modify-write cannot lose a concurrent change.
	LockUser(ctx context.Context, uuid string) (*User, error)
	// UpdateUser writes every column of u, found by its UUID.
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser removes the user and, with it, their sessions.
	DeleteUser(ctx context.Context, uuid string) error
	// ListUsers returns users ordered by creation time, then UUID.
	ListUsers(ctx context.Context, q UserQuery) ([]*User, error)
	// UsersByUUIDs returns the users among uuids that exist, in no set order.
	UsersByUUIDs(ctx context.Context, uuids []string) ([]*User, error)
	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
}

// UserQuery selects a page of users, ordered by (CreatedAt, UUID).
type UserQuery struct {
	Offset int
	Limit  int // at most 1000; 0 means 100
	// Search, when not empty, keeps the users whose username or lower-cased
	// email starts with it (byte for byte).
	Search string
	// After, when set, starts the page after this position (keyset
	// pagination: fast at any depth, unlike Offset).
	After *UserCursor
}

// UserCursor is a position in the users' order: the last user of a page.
type UserCursor struct {
	CreatedAt time.Time
	UUID      string
}

// SessionStore persists login sessions (one row per login, carrying the
// hashed refresh token).
type SessionStore interface {
	// InsertSession stores a new session; ErrNotFound when its user does
	// not exist.
	InsertSession(ctx context.Context, s *Session) error
	// SessionByID loads one session, revoked or not.
	SessionByID(ctx context.Context, id string) (*Session, error)
	// RotateSession replaces the refresh token of session id, but only if its
	// generation is still from (compare-and-swap). It reports whether the
	// row was changed; false means another rotation won, or the session is
	// revoked.
	RotateSession(ctx context.Context, id string, from int64, to SessionRotation) (bool, error)
	// RevokeSession marks one session revoked at at (a no-op when it already is).
	RevokeSession(ctx context.Context, id string, at time.Time) error
	// RevokeUserSessions revokes every live session of a user and returns
	// their IDs.
	RevokeUserSessions(ctx context.Context, userUUID string, at time.Time) ([]string, error)
	// SessionsByUser returns the user's sessions that are neither revoked nor
	// expired at now, newest first.
	SessionsByUser(ctx context.Context, userUUID string, now time.Time) ([]*Session, error)
}

// SessionRotation is the new refresh state written by RotateSession; its
// fields replace the session's fields of the same names.
type SessionRotation struct {
	Generation      int64
	RefreshHash     []byte
	PrevRefreshHash []byte
	SealedSuccessor []byte
	RotatedAt       time.Time
	ExpiresAt       time.Time
}

// AuditStore keeps the append-only audit log.
type AuditStore interface {
	// AppendAudit stores e and sets its ID.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// Audit returns entries matching q, newest first.
	Audit(ctx context.Context, q AuditQuery) ([]*AuditEntry, error)
}

// AuditQuery selects audit entries. Empty fields do not filter.
type AuditQuery struct {
	SubjectUUID string
	ActorUUID   string
	Actions     []string
	// Since and Until bound the entries' time: Since <= Time < Until.
	Since, Until time.Time
	// BeforeID, when not 0, keeps entries whose ID is lower (the cursor of
	// the next page, newest first).
	BeforeID int64
	Limit    int // 0 means 50; at most 1000
}

// DumpStore exports and imports every table in a portable format.
type DumpStore interface {
	// ExportAll writes the export document of every table to w, from one
	// consistent snapshot.
	ExportAll(ctx context.Context, w io.Writer) error
	// ImportAll merges an export document read from r, in one transaction;
	// a malformed document is ErrBadExport.
	ImportAll(ctx context.Context, r io.Reader, mode ImportMode) (*ImportResult, error)
}
