package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt/apikey/keystore"
)

// The API-key feature's capability (keystore.Store): the api_keys table of
// migration 0008.

var (
	_ keystore.Store = (*DB)(nil)
	_ keystore.Store = (*txStore)(nil)
)

// apiKeyRow is the api_keys table.
type apiKeyRow struct {
	bun.BaseModel `bun:"table:api_keys,alias:ak"`

	ID         string     `bun:"id,pk"`
	UserUUID   string     `bun:"user_uuid"`
	Name       string     `bun:"name"`
	Prefix     string     `bun:"prefix"`
	Hash       []byte     `bun:"hash"`
	Scopes     stringList `bun:"scopes"`
	CreatedBy  string     `bun:"created_by"`
	CreatedAt  time.Time  `bun:"created_at"`
	ExpiresAt  *time.Time `bun:"expires_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	LastUsedIP string     `bun:"last_used_ip"`
}

func (r *apiKeyRow) key() *keystore.Key {
	k := &keystore.Key{
		ID: r.ID, UserUUID: r.UserUUID, Name: r.Name, Prefix: r.Prefix, Hash: r.Hash,
		Scopes: r.Scopes.strings(), CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), LastUsedIP: r.LastUsedIP,
	}
	if r.ExpiresAt != nil {
		t := r.ExpiresAt.UTC()
		k.ExpiresAt = &t
	}
	if r.LastUsedAt != nil {
		t := r.LastUsedAt.UTC()
		k.LastUsedAt = &t
	}
	return k
}

// InsertAPIKey implements keystore.Store.
func (h *handle) InsertAPIKey(ctx context.Context, k *keystore.Key) error {
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	row := &apiKeyRow{
		ID: k.ID, UserUUID: k.UserUUID, Name: k.Name, Prefix: k.Prefix, Hash: k.Hash, Scopes: stringList(scopes),
		CreatedBy: k.CreatedBy, CreatedAt: dbTime(k.CreatedAt), ExpiresAt: dbTimePtr(k.ExpiresAt),
		LastUsedAt: dbTimePtr(k.LastUsedAt), LastUsedIP: k.LastUsedIP,
	}
	if _, err := h.idb.NewInsert().Model(row).Exec(ctx); err != nil {
		return h.fail("insert api key", err)
	}
	return nil
}

// APIKeyByPrefix implements keystore.Store: one lookup by the unique
// index of prefix.
func (h *handle) APIKeyByPrefix(ctx context.Context, prefix string) (*keystore.Key, error) {
	row := new(apiKeyRow)
	if err := h.idb.NewSelect().Model(row).Where("prefix = ?", prefix).Limit(1).Scan(ctx); err != nil {
		return nil, h.fail("api key by prefix", err)
	}
	return row.key(), nil
}

// APIKeysByUser implements keystore.Store.
func (h *handle) APIKeysByUser(ctx context.Context, userUUID string) ([]*keystore.Key, error) {
	var rows []*apiKeyRow
	if err := h.idb.NewSelect().Model(&rows).Where("user_uuid = ?", userUUID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, h.fail("api keys by user", err)
	}
	out := make([]*keystore.Key, len(rows))
	for i, r := range rows {
		out[i] = r.key()
	}
	return out, nil
}

// DeleteAPIKey implements keystore.Store.
func (h *handle) DeleteAPIKey(ctx context.Context, userUUID, id string) error {
	res, err := h.idb.NewDelete().Model((*apiKeyRow)(nil)).Where("id = ?", id).Where("user_uuid = ?", userUUID).Exec(ctx)
	if err != nil {
		return h.fail("delete api key", err)
	}
	return h.expectRow(res, "delete api key")
}

// RecordAPIKeyUse implements keystore.Store.
func (h *handle) RecordAPIKeyUse(ctx context.Context, id string, at time.Time, ip string) error {
	res, err := h.idb.NewUpdate().Model((*apiKeyRow)(nil)).
		Set("last_used_at = ?", dbTime(at)).Set("last_used_ip = ?", ip).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return h.fail("record api key use", err)
	}
	return h.expectRow(res, "record api key use")
}
