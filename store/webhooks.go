package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt/webhook/hookstore"
)

// The webhook feature's capability (hookstore.Store): the
// webhook_deliveries table of migration 0010.

var (
	_ hookstore.Store = (*DB)(nil)
	_ hookstore.Store = (*txStore)(nil)
)

// webhookRow is the webhook_deliveries table.
type webhookRow struct {
	bun.BaseModel `bun:"table:webhook_deliveries,alias:wd"`

	ID            string     `bun:"id,pk"`
	EventID       string     `bun:"event_id"`
	EventType     string     `bun:"event_type"`
	Endpoint      string     `bun:"endpoint"`
	Payload       []byte     `bun:"payload"`
	CreatedAt     time.Time  `bun:"created_at"`
	Status        string     `bun:"status"`
	Attempts      int        `bun:"attempts"`
	NextAttemptAt time.Time  `bun:"next_attempt_at"`
	Claim         string     `bun:"claim"`
	LastStatus    int        `bun:"last_status"`
	LastError     string     `bun:"last_error"`
	DeliveredAt   *time.Time `bun:"delivered_at"`
}

func (r *webhookRow) delivery() *hookstore.Delivery {
	d := &hookstore.Delivery{
		ID: r.ID, EventID: r.EventID, EventType: r.EventType, Endpoint: r.Endpoint,
		Payload: append([]byte(nil), r.Payload...), CreatedAt: r.CreatedAt.UTC(), Status: r.Status,
		Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt.UTC(), Claim: r.Claim,
		LastStatus: r.LastStatus, LastError: r.LastError,
	}
	if r.DeliveredAt != nil {
		t := r.DeliveredAt.UTC()
		d.DeliveredAt = &t
	}
	return d
}

// InsertWebhookDeliveries implements hookstore.Store.
func (h *handle) InsertWebhookDeliveries(ctx context.Context, ds []*hookstore.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	rows := make([]*webhookRow, len(ds))
	for i, d := range ds {
		status := d.Status
		if status == "" {
			status = hookstore.StatusPending
		}
		rows[i] = &webhookRow{
			ID: d.ID, EventID: d.EventID, EventType: d.EventType, Endpoint: d.Endpoint, Payload: d.Payload,
			CreatedAt: dbTime(d.CreatedAt), Status: status, Attempts: d.Attempts, NextAttemptAt: dbTime(d.NextAttemptAt),
			Claim: d.Claim, LastStatus: d.LastStatus, LastError: d.LastError, DeliveredAt: dbTimePtr(d.DeliveredAt),
		}
	}
	if _, err := h.idb.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return h.fail("insert webhook deliveries", err)
	}
	return nil
}

// WebhookDeliveryDue implements hookstore.Store (the due index answers).
func (h *handle) WebhookDeliveryDue(ctx context.Context, now time.Time) (bool, error) {
	ok, err := h.idb.NewSelect().Model((*webhookRow)(nil)).
		Where("status = ?", hookstore.StatusPending).Where("next_attempt_at <= ?", dbTime(now)).Exists(ctx)
	if err != nil {
		return false, h.fail("webhook delivery due", err)
	}
	return ok, nil
}

// ClaimWebhookDeliveries implements hookstore.Store: on PostgreSQL the
// select locks the rows it returns and skips those another claim holds,
// so that two workers never take one row; on SQLite the write
// transaction (BEGIN IMMEDIATE) already runs alone.
func (h *handle) ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, claim string, limit int) ([]*hookstore.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var rows []*webhookRow
	q := h.idb.NewSelect().Model(&rows).
		Where("status = ?", hookstore.StatusPending).Where("next_attempt_at <= ?", dbTime(now)).
		OrderExpr("next_attempt_at, id").Limit(int64(limit))
	if h.dialect == DialectPostgres {
		q = q.For("UPDATE SKIP LOCKED")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, h.fail("claim webhook deliveries", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	if _, err := h.idb.NewUpdate().Model((*webhookRow)(nil)).
		Set("next_attempt_at = ?", dbTime(leaseUntil)).Set("claim = ?", claim).
		Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
		return nil, h.fail("claim webhook deliveries", err)
	}
	out := make([]*hookstore.Delivery, len(rows))
	for i, r := range rows {
		r.NextAttemptAt, r.Claim = dbTime(leaseUntil), claim
		out[i] = r.delivery()
	}
	return out, nil
}

// FinishWebhookDelivery implements hookstore.Store.
func (h *handle) FinishWebhookDelivery(ctx context.Context, d *hookstore.Delivery) (bool, error) {
	res, err := h.idb.NewUpdate().Model((*webhookRow)(nil)).
		Set("status = ?", d.Status).Set("attempts = ?", d.Attempts).
		Set("next_attempt_at = ?", dbTime(d.NextAttemptAt)).Set("claim = ''").
		Set("last_status = ?", d.LastStatus).Set("last_error = ?", d.LastError).
		Set("delivered_at = ?", dbTimePtr(d.DeliveredAt)).
		Where("id = ?", d.ID).Where("claim = ?", d.Claim).Where("claim <> ''").Exec(ctx)
	if err != nil {
		return false, h.fail("finish webhook delivery", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, h.fail("finish webhook delivery", err)
	}
	return n == 1, nil
}

// WebhookDeliveries implements hookstore.Store.
func (h *handle) WebhookDeliveries(ctx context.Context, q hookstore.Query) ([]*hookstore.Delivery, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 500)
	var rows []*webhookRow
	sel := h.idb.NewSelect().Model(&rows).OrderExpr("created_at DESC, id DESC").Limit(int64(limit))
	if q.Status != "" {
		sel = sel.Where("status = ?", q.Status)
	}
	if q.Before != "" {
		sel = sel.Where("(created_at, id) < (SELECT created_at, id FROM webhook_deliveries WHERE id = ?)", q.Before)
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, h.fail("webhook deliveries", err)
	}
	out := make([]*hookstore.Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.delivery()
	}
	return out, nil
}

// WebhookDelivery implements hookstore.Store.
func (h *handle) WebhookDelivery(ctx context.Context, id string) (*hookstore.Delivery, error) {
	row := new(webhookRow)
	if err := h.idb.NewSelect().Model(row).Where("id = ?", id).Limit(1).Scan(ctx); err != nil {
		return nil, h.fail("webhook delivery", err)
	}
	return row.delivery(), nil
}

// RetryWebhookDelivery implements hookstore.Store.
func (h *handle) RetryWebhookDelivery(ctx context.Context, id string, now time.Time) error {
	res, err := h.idb.NewUpdate().Model((*webhookRow)(nil)).
		Set("status = ?", hookstore.StatusPending).Set("attempts = 0").Set("claim = ''").
		Set("created_at = ?", dbTime(now)).Set("next_attempt_at = ?", dbTime(now)).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return h.fail("retry webhook delivery", err)
	}
	return h.expectRow(res, "retry webhook delivery")
}
