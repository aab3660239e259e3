// Package keystore is the vocabulary of the API-key feature's storage: the
// stored keys and the Store interface that keeps them. Store
// implementations import it to implement Store without linking the
// feature's HTTP routes; hosts use it through the apikey package.
package keystore

import (
	"context"
	"time"
)

// Store is what the API-key feature needs of the Manager's store. Every
// method runs in the store's transaction when called on the Store of
// usermgmt.Manager.InTx.
type Store interface {
	// InsertAPIKey stores a new key. An ID or a Prefix already stored is
	// a usermgmt.ErrConflict; an unknown UserUUID a usermgmt.ErrNotFound.
	InsertAPIKey(ctx context.Context, k *Key) error
	// APIKeyByPrefix returns the key of a prefix (one indexed lookup), or
	// usermgmt.ErrNotFound.
	APIKeyByPrefix(ctx context.Context, prefix string) (*Key, error)
	// APIKeysByUser returns the user's keys, oldest first (ties by ID);
	// none is an empty slice.
	APIKeysByUser(ctx context.Context, userUUID string) ([]*Key, error)
	// DeleteAPIKey removes the user's key id; usermgmt.ErrNotFound when
	// the user has no such key.
	DeleteAPIKey(ctx context.Context, userUUID, id string) error
	// RecordAPIKeyUse sets the key's last use (time and client IP);
	// usermgmt.ErrNotFound when the key is gone.
	RecordAPIKeyUse(ctx context.Context, id string, at time.Time, ip string) error
}

// Key is one stored API key. The secret itself is never stored: Hash is
// its SHA-256.
type Key struct {
	// ID names the key in routes: random, URL-safe, unique.
	ID       string
	UserUUID string
	// Name is the owner's label for it.
	Name string
	// Prefix is the key's first characters, shown to the owner and
	// looked up (unique).
	Prefix string
	// Hash is the SHA-256 of the whole key.
	Hash []byte
	// Scopes are the "resource:action" permissions the key is limited to.
	Scopes []string
	// CreatedBy is the UUID of the user who created the key (the owner,
	// or an admin).
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	LastUsedIP string
}
