package webhook

import (
	"context"
	"net/http"
	"strconv"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/webhook/hookstore"
)

// AuditRetried is the audit action of an admin's retry of a delivery.
const AuditRetried = "webhook-retried"

// ErrInvalidQuery answers a bad status or limit of the delivery list.
var ErrInvalidQuery = usermgmt.NewError(http.StatusBadRequest, "invalid_webhook_query",
	"status must be pending, delivered or dead, and limit a number from 1 to 500.")

// Deliveries lists the deliveries, newest first, as actor (policy
// webhook.read, admins by default).
func (h *Hooks) Deliveries(ctx context.Context, actor *usermgmt.User, q hookstore.Query) ([]*hookstore.Delivery, error) {
	if err := h.m.Authorize(ctx, usermgmt.AccessRequest{Actor: actor, Resource: "webhook", Action: "read"}); err != nil {
		return nil, err
	}
	switch q.Status {
	case "", hookstore.StatusPending, hookstore.StatusDelivered, hookstore.StatusDead:
	default:
		return nil, ErrInvalidQuery
	}
	if q.Limit < 0 || q.Limit > 500 {
		return nil, ErrInvalidQuery
	}
	st, err := usermgmt.NeedStore[hookstore.Store](h.m.Store(), h.FeatureName())
	if err != nil {
		return nil, err
	}
	ds, err := st.WebhookDeliveries(ctx, q)
	if ds == nil && err == nil {
		ds = []*hookstore.Delivery{}
	}
	return ds, err
}

// Retry makes a delivery (a dead one, typically) pending again, due now
// and with a new retry period, as actor (policy webhook.retry); audited.
func (h *Hooks) Retry(ctx context.Context, actor *usermgmt.User, id string) (*hookstore.Delivery, error) {
	if err := h.m.Authorize(ctx, usermgmt.AccessRequest{Actor: actor, Resource: "webhook", Action: "retry"}); err != nil {
		return nil, err
	}
	var d *hookstore.Delivery
	err := h.m.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		st, err := usermgmt.NeedStore[hookstore.Store](tx, h.FeatureName())
		if err != nil {
			return err
		}
		if err := st.RetryWebhookDelivery(ctx, id, h.cfg.Clock().UTC()); err != nil {
			return err
		}
		if d, err = st.WebhookDelivery(ctx, id); err != nil {
			return err
		}
		return h.m.AppendAudit(ctx, tx, usermgmt.AuditEntry{ActorUUID: actor.UUID, Action: AuditRetried, Detail: id + " " + d.EventType})
	})
	return d, err
}

// Endpoints implements httpadapter.Feature: the admin routes.
func (h *Hooks) Endpoints() []httpadapter.Endpoint {
	list := httpadapter.Handle(httpadapter.Route{Method: http.MethodGet, Path: "/admin/webhooks/deliveries", Name: "read_webhook_deliveries",
		Flag: "READ_WEBHOOK_DELIVERIES", Tag: "admin", Auth: true,
		Summary: "The webhook deliveries, newest first (policy webhook.read); status=dead lists the dead letters.",
		Status:  http.StatusOK, Response: "[]WebhookDelivery"}, decodeList,
		func(ctx context.Context, p *usermgmt.Principal, q hookstore.Query) (httpadapter.Response, error) {
			ds, err := h.Deliveries(ctx, p.User(), q)
			if err != nil {
				return httpadapter.Response{}, err
			}
			return httpadapter.JSON(http.StatusOK, ds), nil
		})
	list.Input = httpadapter.Input{Params: []httpadapter.Param{
		{Name: "status", Schema: map[string]any{"type": "string", "enum": []string{hookstore.StatusPending, hookstore.StatusDelivered, hookstore.StatusDead}}},
		{Name: "limit", Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
		{Name: "before", Schema: map[string]any{"type": "string"}, Description: "A delivery's id: the page after it."},
	}}
	retry := httpadapter.Handle(httpadapter.Route{Method: http.MethodPost, Path: "/admin/webhooks/deliveries/{id}/retry", Name: "retry_webhook_delivery",
		Flag: "RETRY_WEBHOOK_DELIVERY", Tag: "admin", Auth: true,
		Summary: "Send a delivery again (policy webhook.retry): pending, due now, with a new retry period.",
		Request: "WebhookDeliveryID", Status: http.StatusOK, Response: "WebhookDelivery", Statuses: []int{http.StatusNotFound}},
		func(r *http.Request) (string, error) { return r.PathValue("id"), nil },
		func(ctx context.Context, p *usermgmt.Principal, id string) (httpadapter.Response, error) {
			d, err := h.Retry(ctx, p.User(), id)
			if err != nil {
				return httpadapter.Response{}, err
			}
			return httpadapter.JSON(http.StatusOK, d), nil
		})
	return []httpadapter.Endpoint{list, retry}
}

// decodeList reads ?status=&limit=&before=.
func decodeList(r *http.Request) (hookstore.Query, error) {
	v, err := httpadapter.Query(r)
	if err != nil {
		return hookstore.Query{}, err
	}
	q := hookstore.Query{Status: v.Get("status"), Before: v.Get("before")}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return q, ErrInvalidQuery
		}
		q.Limit = n
	}
	return q, nil
}

// Schemas implements httpadapter.Feature.
func (h *Hooks) Schemas() map[string]any {
	type js = map[string]any
	str, when := js{"type": "string"}, js{"type": "string", "format": "date-time"}
	return js{
		"WebhookDeliveryID": js{"type": "object", "properties": js{"id": str}, "required": []string{"id"}},
		"WebhookDelivery": js{"type": "object", "properties": js{
			"id": str, "event_id": js{"type": "string", "description": "The webhook-id header."}, "event_type": str,
			"endpoint": str, "created_at": when,
			"status":   js{"type": "string", "enum": []string{hookstore.StatusPending, hookstore.StatusDelivered, hookstore.StatusDead}},
			"attempts": js{"type": "integer"}, "next_attempt_at": when, "last_status": js{"type": "integer"},
			"last_error": str, "delivered_at": when},
			"required": []string{"id", "event_id", "event_type", "endpoint", "created_at", "status", "attempts", "next_attempt_at", "last_status", "last_error"}},
	}
}
