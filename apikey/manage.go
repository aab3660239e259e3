package apikey

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey/keystore"
)

// APIKey is a stored key as its owner and admins see it: never the secret.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	LastUsedIP string     `json:"last_used_ip"`
}

// Created is a key just created: the only time its secret, Key, is shown.
type Created struct {
	APIKey
	Key string `json:"key"`
}

func newAPIKey(k *keystore.Key) *APIKey {
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return &APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: scopes, CreatedAt: k.CreatedAt,
		ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, LastUsedIP: k.LastUsedIP}
}

// NewKey is what a key is created with.
type NewKey struct {
	// Name labels the key for its owner (required).
	Name string
	// Scopes are the "resource:action" permissions of the policy the key
	// is limited to (Keys.Scopes lists them); none leaves it only what
	// needs no permission, such as reading its owner's profile.
	Scopes []string
	// ExpiresIn, when > 0, ends the key that long after its creation;
	// zero: it lasts until revoked.
	ExpiresIn time.Duration
}

// checkScopes returns the scopes sorted without duplicates, or
// ErrUnknownScope naming the first that is not one of Keys.Scopes.
func (k *Keys) checkScopes(scopes []string) ([]string, error) {
	if len(scopes) > MaxScopes {
		return nil, ErrUnknownScope.WithMessage("An API key has at most 64 scopes.")
	}
	known := k.Scopes()
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if _, found := slices.BinarySearch(known, s); !found {
			name := s
			if len(name) > 100 {
				name = name[:100]
			}
			return nil, ErrUnknownScope.WithParam("scope", name)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// authorize lets actor act on the keys of owner: their own always (from a
// signed-in session), another's by the policy's "api_key" resource (action
// "create", "read" or "delete": admins by default). An API key manages no
// keys at all (usermgmt.ErrSessionRequired), and an impersonated caller
// lists them but neither creates nor revokes one
// (usermgmt.ErrImpersonated).
func (k *Keys) authorize(ctx context.Context, actor *usermgmt.User, action string, owner *usermgmt.User) error {
	if err := usermgmt.RequireSession(ctx); err != nil {
		return err
	}
	if action != "read" {
		if err := usermgmt.RefuseImpersonated(ctx); err != nil {
			return err
		}
	}
	if actor == nil {
		return usermgmt.ErrForbidden
	}
	if actor.UUID == owner.UUID {
		return nil
	}
	return k.m.Authorize(ctx, usermgmt.AccessRequest{Actor: actor, Resource: "api_key", Action: action, Target: owner})
}

// owner returns the user ownerUUID, as the actor may see it: a caller who
// may not read others' keys learns nothing of whether the user exists.
func (k *Keys) owner(ctx context.Context, actor *usermgmt.User, ownerUUID string) (*usermgmt.User, error) {
	if err := usermgmt.RequireSession(ctx); err != nil {
		return nil, err
	}
	if actor != nil && actor.UUID == ownerUUID {
		return actor, nil
	}
	u, err := k.m.User(ctx, ownerUUID)
	if errors.Is(err, usermgmt.ErrNotFound) || errors.Is(err, usermgmt.ErrUserNotFound) || errors.Is(err, usermgmt.ErrInvalidInput) {
		if aerr := k.m.Authorize(ctx, usermgmt.AccessRequest{Actor: actor, Resource: "api_key", Action: "read"}); aerr != nil {
			return nil, aerr
		}
	}
	return u, err
}

// Create makes a key for ownerUUID, as actor, and returns it with its
// secret (shown this once). The key is audited (AuditCreated, with its
// scopes).
func (k *Keys) Create(ctx context.Context, actor *usermgmt.User, ownerUUID string, nk NewKey) (*Created, error) {
	name, err := cleanName(nk.Name)
	if err != nil {
		return nil, err
	}
	scopes, err := k.checkScopes(nk.Scopes)
	if err != nil {
		return nil, err
	}
	if nk.ExpiresIn < 0 || nk.ExpiresIn > MaxExpiresIn {
		return nil, ErrInvalidExpiry
	}
	owner, err := k.owner(ctx, actor, ownerUUID)
	if err != nil {
		return nil, err
	}
	if err := k.authorize(ctx, actor, "create", owner); err != nil {
		return nil, err
	}
	now := k.now()
	var created *Created
	// A prefix already taken (54 random bits: rare) is drawn again.
	for attempt := 0; ; attempt++ {
		created, err = k.insert(ctx, actor, owner, name, scopes, nk.ExpiresIn, now)
		if !errors.Is(err, usermgmt.ErrConflict) || attempt == 2 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return created, nil
}

// insert draws a key and stores it, within the owner's MaxKeys.
func (k *Keys) insert(ctx context.Context, actor, owner *usermgmt.User, name string, scopes []string, ttl time.Duration, now time.Time) (*Created, error) {
	secret, err := k.random(SecretBytes)
	if err != nil {
		return nil, err
	}
	rawID, err := k.random(12)
	if err != nil {
		return nil, err
	}
	key := KeyPrefix + base64.RawURLEncoding.EncodeToString(secret)
	sum := hashKey(key)
	row := &keystore.Key{ID: base64.RawURLEncoding.EncodeToString(rawID), UserUUID: owner.UUID, Name: name,
		Prefix: key[:PrefixLen], Hash: sum[:], Scopes: scopes, CreatedBy: actor.UUID, CreatedAt: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		row.ExpiresAt = &exp
	}
	err = k.m.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		ts, err := k.store(tx)
		if err != nil {
			return err
		}
		// The owner's row, locked: two creations at the limit run one
		// after the other, and the second sees the first.
		if _, err := tx.LockUser(ctx, owner.UUID); err != nil {
			return err
		}
		have, err := ts.APIKeysByUser(ctx, owner.UUID)
		if err != nil {
			return err
		}
		if len(have) >= k.cfg.MaxKeys {
			return ErrTooMany
		}
		if err := ts.InsertAPIKey(ctx, row); err != nil {
			return err
		}
		return k.audit(ctx, tx, actor.UUID, owner.UUID, AuditCreated, "id="+row.ID+" scopes="+strings.Join(scopes, ","))
	})
	if err != nil {
		return nil, err
	}
	return &Created{APIKey: *newAPIKey(row), Key: key}, nil
}

// List returns the keys of ownerUUID, oldest first, as actor.
func (k *Keys) List(ctx context.Context, actor *usermgmt.User, ownerUUID string) ([]*APIKey, error) {
	owner, err := k.owner(ctx, actor, ownerUUID)
	if err != nil {
		return nil, err
	}
	if err := k.authorize(ctx, actor, "read", owner); err != nil {
		return nil, err
	}
	st, err := k.store(k.m.Store())
	if err != nil {
		return nil, err
	}
	keys, err := st.APIKeysByUser(ctx, owner.UUID)
	if err != nil {
		return nil, err
	}
	out := make([]*APIKey, len(keys))
	for i, key := range keys {
		out[i] = newAPIKey(key)
	}
	return out, nil
}

// Revoke removes the key id of ownerUUID, as actor: it stops working at
// once here, and within the Manager's CacheTTL on other instances. It is
// audited (AuditRevoked).
func (k *Keys) Revoke(ctx context.Context, actor *usermgmt.User, ownerUUID, id string) error {
	owner, err := k.owner(ctx, actor, ownerUUID)
	if err != nil {
		return err
	}
	if err := k.authorize(ctx, actor, "delete", owner); err != nil {
		return err
	}
	var prefix string
	err = k.m.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		ts, err := k.store(tx)
		if err != nil {
			return err
		}
		keys, err := ts.APIKeysByUser(ctx, owner.UUID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(keys, func(key *keystore.Key) bool { return key.ID == id })
		if i < 0 {
			return ErrNotFound
		}
		prefix = keys[i].Prefix
		if err := ts.DeleteAPIKey(ctx, owner.UUID, id); err != nil {
			if errors.Is(err, usermgmt.ErrNotFound) {
				return ErrNotFound
			}
			return err
		}
		return k.audit(ctx, tx, actor.UUID, owner.UUID, AuditRevoked, "id="+id)
	})
	if prefix != "" {
		k.cache.forget(prefix)
	}
	return err
}
