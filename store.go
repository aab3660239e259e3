package usermgmt

import (
	"context"
	"time"
)

// Store is the core contract: what the Manager persists through whatever
// is enabled (users, sessions and their tokens, audit, the transaction).
// The store package implements it over SQLite and PostgreSQL (store.Open);
// store/storetest is the conformance suite any implementation must pass,
// per capability.
//
// Capabilities are separate interfaces that a Store implements when it can
// hold what they hold; New checks those the configuration needs, and
// fails with ErrStoreCapability naming the one missing:
//   - FileStore, for users' files (a files.Storage: Config.DataDir or
//     WithStorage);
//   - ExternalStore, for third-party logins (Config.OAuthProviders);
//   - LockoutStore, for the lockout of accounts after failed logins
//     (Config.Lockout, on unless its Threshold is negative);
//   - FlagStore, for stored feature flags (without it no flag is stored:
//     each flag evaluates to its default and setting one fails).
//
// Feature packages declare their own store interfaces (dbtools.Store ...),
// checked when the feature is enabled (NeedStore).
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
	SecurityStore

	// InTx runs fn inside one write transaction. The Store handed to fn works
	// within it and has the same capabilities as the Store itself; fn's
	// error (or a panic) rolls the transaction back. Nested calls on the
	// transaction's Store run in the same transaction.
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

// ExternalStore persists third-party login: the external identities linked
// to users and the pending authorization flows.
type ExternalStore interface {
	// InsertExternalIdentity stores a new link. Conflicts name the field
	// "external_identity" (the provider's account is linked already) or
	// "external_provider" (the user has an account of that provider
	// already); a missing user is ErrNotFound.
	InsertExternalIdentity(ctx context.Context, x *ExternalIdentity) error
	// ExternalIdentity loads the link of a provider's account.
	ExternalIdentity(ctx context.Context, provider, subject string) (*ExternalIdentity, error)
	// ExternalIdentitiesByUser returns a user's links, by provider.
	ExternalIdentitiesByUser(ctx context.Context, userUUID string) ([]*ExternalIdentity, error)
	// UpdateExternalIdentity writes the profile fields, tokens and
	// UpdatedAt of the link found by provider and subject.
	UpdateExternalIdentity(ctx context.Context, x *ExternalIdentity) error
	// DeleteExternalIdentity removes the link of a user to a provider.
	DeleteExternalIdentity(ctx context.Context, userUUID, provider string) error

	// InsertOAuthState stores a pending flow.
	InsertOAuthState(ctx context.Context, s *OAuthState) error
	// TakeOAuthState deletes the flow with the given state hash and returns
	// it (ErrNotFound when there is none): a flow is taken once.
	TakeOAuthState(ctx context.Context, stateHash []byte) (*OAuthState, error)
	// DeleteExpiredOAuthStates removes the flows expired at now and
	// returns how many.
	DeleteExpiredOAuthStates(ctx context.Context, now time.Time) (int, error)
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

// FileStore persists users' files (their metadata: contents live in a
// files.Storage) and the storage deletions still to do. File names are
// unique per owner.
type FileStore interface {
	// InsertFile stores a new file and sets its ID. A name the owner already
	// uses is a conflict on "file_name"; an owner that does not exist is
	// ErrNotFound. Deleting the owner deletes their files; deleting the
	// uploader (CreatedByUUID) empties that field.
	InsertFile(ctx context.Context, f *File) error
	// FileByID loads one file.
	FileByID(ctx context.Context, id int64) (*File, error)
	// FilesByIDs returns the files among ids that exist, in no set order.
	FilesByIDs(ctx context.Context, ids []int64) ([]*File, error)
	// ListFiles returns files ordered by creation time, then ID.
	ListFiles(ctx context.Context, q FileQuery) ([]*File, error)
	// CountFiles returns how many files exist.
	CountFiles(ctx context.Context) (int, error)
	// UpdateFile writes the description of f, found by its ID.
	UpdateFile(ctx context.Context, f *File) error
	// DeleteFile removes one file row.
	DeleteFile(ctx context.Context, id int64) error
	// ClearProfilePicture empties profile_picture_id wherever it is fileID
	// and returns the UUIDs of the users changed.
	ClearProfilePicture(ctx context.Context, fileID int64) ([]string, error)
	// AddFileDeletion records a storage deletion to do (a no-op when the
	// key is already recorded).
	AddFileDeletion(ctx context.Context, d FileDeletion) error
	// RemoveFileDeletion forgets a deletion done (a no-op when absent).
	RemoveFileDeletion(ctx context.Context, key string) error
	// FileDeletions returns up to limit recorded deletions, oldest first
	// (by CreatedAt, then Key), after the given one when after is not nil.
	FileDeletions(ctx context.Context, after *FileDeletion, limit int) ([]FileDeletion, error)
}

// FileQuery selects a page of files.
type FileQuery struct {
	// OwnerUUID, when set, selects that user's files only.
	OwnerUUID string
	Offset    int
	Limit     int // at most 1000; 0 means 100
}

// FileDeletion is a storage deletion still to do: the content under Key,
// or with Folder every key under Key + "/".
type FileDeletion struct {
	Key       string
	Folder    bool
	CreatedAt time.Time
}

// SecurityStore persists what account security needs besides the user row:
// one-time tokens (verification and reset links, email codes, login
// challenges), two-factor recovery codes and each user's two-factor state.
// Every token and code is stored as a hash, never in plain text.
type SecurityStore interface {
	// InsertOneTimeToken stores a token; ErrNotFound when its user does not
	// exist.
	InsertOneTimeToken(ctx context.Context, t *OneTimeToken) error
	// OneTimeTokenByHash loads the token of purpose with that hash, used or
	// not, expired or not.
	OneTimeTokenByHash(ctx context.Context, purpose string, hash []byte) (*OneTimeToken, error)
	// OneTimeTokensByUser returns the user's tokens of purpose that are not
	// used, newest first.
	OneTimeTokensByUser(ctx context.Context, userUUID, purpose string) ([]*OneTimeToken, error)
	// UseOneTimeToken marks a token used at at, but only if it is not used
	// yet (compare-and-swap); it reports whether it did.
	UseOneTimeToken(ctx context.Context, id string, at time.Time) (bool, error)
	// DeleteOneTimeTokens deletes every token of the user with one of the
	// purposes (all purposes when none is given).
	DeleteOneTimeTokens(ctx context.Context, userUUID string, purposes ...string) error
	// ReplaceRecoveryCodes deletes the user's recovery codes and stores
	// codes instead.
	ReplaceRecoveryCodes(ctx context.Context, userUUID string, codes []*RecoveryCode) error
	// RecoveryCodes returns the user's unused recovery codes.
	RecoveryCodes(ctx context.Context, userUUID string) ([]*RecoveryCode, error)
	// UseRecoveryCode marks a code used at at if it is not used yet, and
	// reports whether it did.
	UseRecoveryCode(ctx context.Context, id string, at time.Time) (bool, error)
	// OTPState returns the user's two-factor state; the zero state (with
	// UserUUID set) when none is stored.
	OTPState(ctx context.Context, userUUID string) (*OTPState, error)
	// SaveOTPState inserts or replaces the user's two-factor state;
	// ErrNotFound when the user does not exist.
	SaveOTPState(ctx context.Context, s *OTPState) error
}

// FlagStore persists feature flags, with a version that every change bumps
// so that instances notice changes by reading one number.
type FlagStore interface {
	// FeatureFlags returns every stored flag.
	FeatureFlags(ctx context.Context) (FlagSet, error)
	// FeatureFlagsVersion returns the version of the flags.
	FeatureFlagsVersion(ctx context.Context) (int64, error)
	// PutFeatureFlag creates or replaces one flag.
	PutFeatureFlag(ctx context.Context, name string, f Flag, at time.Time) error
	// DeleteFeatureFlag removes one flag (a no-op when it does not exist).
	DeleteFeatureFlag(ctx context.Context, name string) error
	// BumpFeatureFlagsVersion increments the version and returns it.
	BumpFeatureFlagsVersion(ctx context.Context) (int64, error)
}

// LockoutStore keeps the failed-login counters of accounts. Each method is
// one atomic statement, so parallel attempts are counted exactly.
type LockoutStore interface {
	// CountLoginAttempt counts one login attempt on a user: unless the
	// account is locked at now, it adds one to the failure count, which
	// first restarts at zero when the count began before windowStart. It
	// returns the state after the update. ErrNotFound when the user does
	// not exist.
	CountLoginAttempt(ctx context.Context, userUUID string, now, windowStart time.Time) (LoginAttempts, error)
	// LockAccount locks the account until until and restarts its count.
	LockAccount(ctx context.Context, userUUID string, until time.Time) error
	// ClearLoginFailures forgets the user's failures and lock.
	ClearLoginFailures(ctx context.Context, userUUID string) error
}

// LoginAttempts is the failed-login state of an account.
type LoginAttempts struct {
	// Failures counts the attempts since WindowStart (an attempt counts
	// before its password is checked, and a success clears the count).
	Failures    int
	WindowStart time.Time
	// LockedUntil is the end of the lock; zero when never locked.
	LockedUntil time.Time
}
