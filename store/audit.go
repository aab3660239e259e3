package store

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt"
)

// Page sizes of Audit.
const (
	defaultAuditLimit = 50
	maxAuditLimit     = 1000
)

// AppendAudit implements usermgmt.AuditStore; it sets e.ID.
func (h *handle) AppendAudit(ctx context.Context, e *usermgmt.AuditEntry) error {
	row := newAuditRow(e)
	if _, err := h.idb.NewInsert().Model(row).Returning("id").Exec(ctx); err != nil {
		return h.fail("append audit", err)
	}
	e.ID = row.ID
	return nil
}

// Audit implements usermgmt.AuditStore: newest (highest ID) first. With a
// subject (or an actor) it reads the index on (subject_uuid, id) (or
// (actor_uuid, id)) backwards.
func (h *handle) Audit(ctx context.Context, q usermgmt.AuditQuery) ([]*usermgmt.AuditEntry, error) {
	limit := clampLimit(q.Limit, defaultAuditLimit, maxAuditLimit)
	var rows []*auditRow
	sel := h.idb.NewSelect().Model(&rows)
	if q.SubjectUUID != "" {
		sel = sel.Where("subject_uuid = ?", q.SubjectUUID)
	}
	if q.ActorUUID != "" {
		sel = sel.Where("actor_uuid = ?", q.ActorUUID)
	}
	if !q.Since.IsZero() {
		sel = sel.Where("time >= ?", dbTime(q.Since))
	}
	if !q.Until.IsZero() {
		sel = sel.Where("time < ?", dbTime(q.Until))
	}
	if q.BeforeID != 0 {
		sel = sel.Where("id < ?", q.BeforeID)
	}
	if len(q.Actions) > 0 {
		sel = sel.Where("action IN (?)", bun.List(q.Actions))
	}
	if err := sel.OrderExpr("id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, h.fail("audit", err)
	}
	out := make([]*usermgmt.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}
