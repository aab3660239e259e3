package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"
)

// The organizations feature's active organization of a session and its
// invalidation of org claims (orgstore.Store): the org_sessions table of
// migration 0012, and the users' updated_at.

// orgSessionRow is the org_sessions table.
type orgSessionRow struct {
	bun.BaseModel `bun:"table:org_sessions,alias:os"`

	SessionID string    `bun:"session_id,pk"`
	OrgID     string    `bun:"org_id"`
	ChosenAt  time.Time `bun:"chosen_at"`
}

// SetActiveOrganization implements orgstore.Store.
func (h *handle) SetActiveOrganization(ctx context.Context, sessionID, orgID string, at time.Time) error {
	if orgID == "" {
		if _, err := h.idb.NewDelete().Model((*orgSessionRow)(nil)).Where("session_id = ?", sessionID).Exec(ctx); err != nil {
			return h.fail("clear active organization", err)
		}
		return nil
	}
	row := &orgSessionRow{SessionID: sessionID, OrgID: orgID, ChosenAt: dbTime(at)}
	_, err := h.idb.NewInsert().Model(row).
		On("CONFLICT (session_id) DO UPDATE").Set("org_id = EXCLUDED.org_id").Set("chosen_at = EXCLUDED.chosen_at").
		Exec(ctx)
	if err != nil {
		return h.fail("set active organization", err)
	}
	return nil
}

// ActiveOrganization implements orgstore.Store.
func (h *handle) ActiveOrganization(ctx context.Context, sessionID string) (string, error) {
	var row orgSessionRow
	err := h.idb.NewSelect().Model(&row).Where("session_id = ?", sessionID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", h.fail("active organization", err)
	}
	return row.OrgID, nil
}

// TouchUsers implements orgstore.Store.
func (h *handle) TouchUsers(ctx context.Context, at time.Time, uuids ...string) error {
	if len(uuids) == 0 {
		return nil
	}
	_, err := h.idb.NewUpdate().Model((*userRow)(nil)).Set("updated_at = ?", dbTime(at)).
		Where("uuid IN (?)", bun.In(uuids)).Exec(ctx)
	if err != nil {
		return h.fail("touch users", err)
	}
	return nil
}

// TouchOrganizationMembers implements orgstore.Store.
func (h *handle) TouchOrganizationMembers(ctx context.Context, orgID string, at time.Time) ([]string, error) {
	var uuids []string
	err := h.idb.NewSelect().Model((*orgMemberRow)(nil)).Column("user_uuid").Where("org_id = ?", orgID).
		Order("user_uuid").Scan(ctx, &uuids)
	if err != nil {
		return nil, h.fail("members to touch", err)
	}
	if err := h.TouchUsers(ctx, at, uuids...); err != nil {
		return nil, err
	}
	return uuids, nil
}
