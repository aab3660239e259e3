// Package secretstore is the vocabulary of the emaillogin feature's
// storage: the one-time sign-in secrets (a magic link's token, an email
// sign-in code) and the Store interface that keeps them. Store
// implementations import it to implement Store; hosts use it through the
// emaillogin package.
package secretstore

import (
	"context"
	"time"
)

// Kinds of sign-in secrets.
const (
	// KindLink is a magic link's token.
	KindLink = "link"
	// KindCode is an email sign-in code.
	KindCode = "code"
)

// Secret is one pending sign-in secret. Only its hash is stored: the
// SHA-256 of a link's token, or a keyed MAC of a code.
type Secret struct {
	// ID names the secret: random, unique.
	ID string
	// Kind is KindLink or KindCode.
	Kind string
	// Email is the normalised address the secret was mailed to. A kind
	// has at most one secret per address: storing one voids the older.
	Email string
	// UserUUID is the account the secret signs in to, "" for a sign-up
	// link (no account yet).
	UserUUID string
	// Hash is the secret's hash, unique among the stored secrets.
	Hash []byte
	// RedirectURI is where the client asked to land after a link
	// ("" for none); checked against the allow-list before it is stored.
	RedirectURI string
	// Attempts counts the wrong guesses at a code.
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store is what the emaillogin feature needs of the Manager's store.
// Every method runs in the store's transaction when called on the Store
// of usermgmt.Manager.InTx.
type Store interface {
	// PutSecret stores s in place of any other secret of s.Kind for
	// s.Email, atomically: the newest secret voids the older, even when
	// two are stored at the same time.
	PutSecret(ctx context.Context, s *Secret) error
	// TakeSecretByHash removes and returns the secret of kind whose Hash
	// is hash, so that it is used at most once, even by two instances at
	// the same time; a missing secret, or one that expired at or before
	// now (removed as well), is usermgmt.ErrNotFound.
	TakeSecretByHash(ctx context.Context, kind string, hash []byte, now time.Time) (*Secret, error)
	// SecretByEmail returns the secret of kind for email that expires
	// after now, or usermgmt.ErrNotFound.
	SecretByEmail(ctx context.Context, kind, email string, now time.Time) (*Secret, error)
	// CountSecretAttempt adds one to the Attempts of secret id, only while
	// they are below limit and the secret expires after now, and returns
	// the new count: of parallel callers at most limit succeed. A secret
	// that is gone, expired or out of attempts is usermgmt.ErrNotFound.
	CountSecretAttempt(ctx context.Context, id string, limit int, now time.Time) (int, error)
	// DeleteSecret removes secret id and reports whether it was there: of
	// two parallel callers only one gets true.
	DeleteSecret(ctx context.Context, id string) (bool, error)
	// DeleteExpiredSecrets removes the secrets that expired at or before
	// now and returns how many.
	DeleteExpiredSecrets(ctx context.Context, now time.Time) (int64, error)
}
