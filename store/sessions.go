package store

import (
	"context"
	"slices"
	"time"

	"github.com/usermgmt/usermgmt"
)

// InsertSession implements usermgmt.SessionStore. A session of a user that
// does not exist is ErrNotFound; a duplicate ID is a conflict on "id".
func (h *handle) InsertSession(ctx context.Context, s *usermgmt.Session) error {
	if _, err := h.idb.NewInsert().Model(newSessionRow(s)).Exec(ctx); err != nil {
		return h.fail("insert session", err)
	}
	return nil
}

// SessionByID implements usermgmt.SessionStore. It returns revoked and
// expired sessions too: the caller decides with Session.Active.
func (h *handle) SessionByID(ctx context.Context, id string) (*usermgmt.Session, error) {
	row := new(sessionRow)
	if err := h.idb.NewSelect().Model(row).Where("id = ?", id).Limit(1).Scan(ctx); err != nil {
		return nil, h.fail("session by id", err)
	}
	return row.session(), nil
}

// RotateSession implements usermgmt.SessionStore with one conditional UPDATE.
func (h *handle) RotateSession(ctx context.Context, id string, from int64, to usermgmt.SessionRotation) (bool, error) {
	res, err := h.idb.NewUpdate().Model((*sessionRow)(nil)).
		Set("generation = ?", to.Generation).
		Set("refresh_hash = ?", to.RefreshHash).
		Set("prev_refresh_hash = ?", to.PrevRefreshHash).
		Set("sealed_successor = ?", to.SealedSuccessor).
		Set("rotated_at = ?", dbTime(to.RotatedAt)).
		Set("expires_at = ?", dbTime(to.ExpiresAt)).
		Where("id = ?", id).
		Where("generation = ?", from).
		Where("revoked_at IS NULL").
		Exec(ctx)
	if err != nil {
		return false, h.fail("rotate session", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, h.fail("rotate session", err)
	}
	return n == 1, nil
}

// RevokeSession implements usermgmt.SessionStore. An already revoked session
// keeps its first revocation time; a missing one is ErrNotFound.
func (h *handle) RevokeSession(ctx context.Context, id string, at time.Time) error {
	res, err := h.idb.NewUpdate().Model((*sessionRow)(nil)).
		Set("revoked_at = COALESCE(revoked_at, ?)", dbTime(at)).
		Where("id = ?", id).
		Exec(ctx)
	if err != nil {
		return h.fail("revoke session", err)
	}
	return h.expectRow(res, "revoke session")
}

// RevokeUserSessions implements usermgmt.SessionStore. Every session of the
// user not yet revoked (expired ones included) is revoked at at; the IDs
// come back sorted.
func (h *handle) RevokeUserSessions(ctx context.Context, userUUID string, at time.Time) ([]string, error) {
	ids := []string{}
	_, err := h.idb.NewUpdate().Model((*sessionRow)(nil)).
		Set("revoked_at = ?", dbTime(at)).
		Where("user_uuid = ?", userUUID).
		Where("revoked_at IS NULL").
		Returning("id").
		Exec(ctx, &ids)
	if err != nil {
		return nil, h.fail("revoke user sessions", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// SessionsByUser implements usermgmt.SessionStore.
func (h *handle) SessionsByUser(ctx context.Context, userUUID string, now time.Time) ([]*usermgmt.Session, error) {
	var rows []*sessionRow
	err := h.idb.NewSelect().Model(&rows).
		Where("user_uuid = ?", userUUID).
		Where("revoked_at IS NULL").
		Where("expires_at > ?", dbTime(now)).
		OrderExpr("created_at DESC, id DESC").
		Scan(ctx)
	if err != nil {
		return nil, h.fail("sessions by user", err)
	}
	out := make([]*usermgmt.Session, len(rows))
	for i, r := range rows {
		out[i] = r.session()
	}
	return out, nil
}
