package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/usermgmt/usermgmt"
)

// FeatureFlags implements usermgmt.FlagStore.
func (h *handle) FeatureFlags(ctx context.Context) (usermgmt.FlagSet, error) {
	var rows []struct {
		Name  string `bun:"name"`
		Value string `bun:"value"`
	}
	if err := h.idb.NewRaw("SELECT name, value FROM feature_flags").Scan(ctx, &rows); err != nil {
		return nil, h.fail("feature flags", err)
	}
	set := make(usermgmt.FlagSet, len(rows))
	for _, r := range rows {
		var f usermgmt.Flag
		if err := json.Unmarshal([]byte(r.Value), &f); err != nil {
			return nil, h.fail("feature flags", fmt.Errorf("flag %q: %w", r.Name, err))
		}
		set[r.Name] = f
	}
	return set, nil
}

// FeatureFlagsVersion implements usermgmt.FlagStore.
func (h *handle) FeatureFlagsVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := h.idb.NewRaw("SELECT version FROM feature_flags_version WHERE id = 1").Scan(ctx, &v); err != nil {
		return 0, h.fail("feature flags version", err)
	}
	return v, nil
}

// PutFeatureFlag implements usermgmt.FlagStore with one upsert.
func (h *handle) PutFeatureFlag(ctx context.Context, name string, f usermgmt.Flag, at time.Time) error {
	value, err := json.Marshal(f)
	if err != nil {
		return h.fail("put feature flag", err)
	}
	_, err = h.idb.NewRaw(`INSERT INTO feature_flags (name, value, updated_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		name, string(value), dbTime(at)).Exec(ctx)
	if err != nil {
		return h.fail("put feature flag", err)
	}
	return nil
}

// DeleteFeatureFlag implements usermgmt.FlagStore.
func (h *handle) DeleteFeatureFlag(ctx context.Context, name string) error {
	if _, err := h.idb.NewRaw("DELETE FROM feature_flags WHERE name = ?", name).Exec(ctx); err != nil {
		return h.fail("delete feature flag", err)
	}
	return nil
}

// BumpFeatureFlagsVersion implements usermgmt.FlagStore.
func (h *handle) BumpFeatureFlagsVersion(ctx context.Context) (int64, error) {
	var v int64
	err := h.idb.NewRaw("UPDATE feature_flags_version SET version = version + 1 WHERE id = 1 RETURNING version").Scan(ctx, &v)
	if err != nil {
		return 0, h.fail("bump feature flags version", err)
	}
	return v, nil
}
