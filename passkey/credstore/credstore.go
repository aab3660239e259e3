// Package credstore is the vocabulary of the passkey feature's storage:
// the stored passkeys, the pending WebAuthn ceremonies and the Store
// interface that keeps them. Store implementations import it to implement
// Store without linking the WebAuthn library; hosts use it through the
// passkey package.
package credstore

import (
	"context"
	"time"
)

// Store is what the passkey feature needs of the Manager's store. Every
// method runs in the store's transaction when called on the Store of
// usermgmt.Manager.InTx.
type Store interface {
	// InsertPasskey stores a new passkey. A CredentialID already stored
	// (for any user) is a usermgmt.ErrConflict.
	InsertPasskey(ctx context.Context, p *Passkey) error
	// PasskeysByUser returns the user's passkeys, oldest first (ties by
	// ID); none is an empty slice.
	PasskeysByUser(ctx context.Context, userUUID string) ([]*Passkey, error)
	// PasskeyByCredentialID returns the passkey of a WebAuthn credential
	// ID, or usermgmt.ErrNotFound.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)
	// RenamePasskey sets the name of the user's passkey id;
	// usermgmt.ErrNotFound when the user has no such passkey.
	RenamePasskey(ctx context.Context, userUUID, id, name string) error
	// RecordPasskeyUse stores a successful assertion: the new signature
	// counter, the backup state and the time. It writes only while the
	// stored counter is below use.SignCount (or both are zero: an
	// authenticator without a counter), and returns false, writing
	// nothing, otherwise: a parallel assertion with the same counter
	// loses. usermgmt.ErrNotFound when the passkey is gone.
	RecordPasskeyUse(ctx context.Context, use PasskeyUse) (bool, error)
	// DeletePasskey removes the user's passkey id; usermgmt.ErrNotFound
	// when the user has no such passkey.
	DeletePasskey(ctx context.Context, userUUID, id string) error

	// InsertCeremony stores a pending ceremony. An IDHash already stored
	// is a usermgmt.ErrConflict.
	InsertCeremony(ctx context.Context, c *Ceremony) error
	// TakeCeremony removes and returns the ceremony of idHash, so that it
	// is used at most once, even by two instances at the same time; a
	// missing ceremony, or one that expired at or before now (removed as
	// well), is usermgmt.ErrNotFound.
	TakeCeremony(ctx context.Context, idHash []byte, now time.Time) (*Ceremony, error)
	// DeleteExpiredCeremonies removes the ceremonies that expired at or
	// before now and returns how many.
	DeleteExpiredCeremonies(ctx context.Context, now time.Time) (int64, error)
}

// Passkey is one stored WebAuthn credential of a user.
type Passkey struct {
	// ID names the passkey in routes: random, URL-safe, unique.
	ID       string
	UserUUID string
	// CredentialID is the authenticator's credential ID (unique).
	CredentialID []byte
	// Name is the owner's label for it.
	Name string
	// PublicKey is the credential's COSE public key.
	PublicKey []byte
	// SignCount is the last signature counter seen.
	SignCount uint32
	// AAGUID names the authenticator model (16 bytes, zero for none).
	AAGUID []byte
	// Transports are the hints the browser gave at registration ("usb",
	// "internal", "hybrid" ...).
	Transports []string
	// AttestationFormat is the registration's attestation format
	// ("none" ...).
	AttestationFormat string
	// UserVerified records that a ceremony verified the user with this
	// credential (the specification's uvInitialized).
	UserVerified bool
	// BackupEligible is the BE flag of registration; it never changes.
	BackupEligible bool
	// BackedUp is the BS flag of the latest ceremony.
	BackedUp   bool
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// PasskeyUse is what a successful sign-in records of a passkey.
type PasskeyUse struct {
	ID        string
	SignCount uint32
	BackedUp  bool
	// UserVerified, once true, stays true.
	UserVerified bool
	UsedAt       time.Time
}

// Ceremony kinds.
const (
	KindRegister = "register"
	KindLogin    = "login"
)

// Ceremony is a WebAuthn ceremony begun and not yet finished: stored so
// that any instance can finish it, once, before it expires.
type Ceremony struct {
	// IDHash is the SHA-256 of the ceremony ID handed to the client.
	IDHash []byte
	// Kind is KindRegister or KindLogin.
	Kind string
	// UserUUID is the user a registration is bound to, or the account a
	// login by username named ("" for a discoverable login).
	UserUUID string
	// Session is the WebAuthn session data, encoded by the feature.
	Session   []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}
