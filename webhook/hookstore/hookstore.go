// Package hookstore is the storage the webhook feature needs: the outbox
// of deliveries (table webhook_deliveries, migration 0010), one row per
// event and endpoint. It imports nothing of the library, so that a store
// implements it without linking the feature or its HTTP code.
package hookstore

import (
	"context"
	"time"
)

// The states of a delivery.
const (
	// StatusPending: not delivered yet; due at NextAttemptAt.
	StatusPending = "pending"
	// StatusDelivered: the endpoint answered 2xx.
	StatusDelivered = "delivered"
	// StatusDead: every attempt failed for the retry period; an admin may
	// retry it.
	StatusDead = "dead"
)

// Delivery is one event to send to one endpoint.
type Delivery struct {
	// ID names the row ("whd_..."); EventID is the webhook-id header,
	// the same for every endpoint and every attempt of one event.
	ID        string    `json:"id"`
	EventID   string    `json:"event_id"`
	EventType string    `json:"event_type"`
	Endpoint  string    `json:"endpoint"`
	Payload   []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	// NextAttemptAt is when the delivery is due; a worker that claims it
	// moves it past its lease, so that another worker takes it only once
	// the lease has run out (the worker crashed).
	NextAttemptAt time.Time `json:"next_attempt_at"`
	// Claim is the token of the worker holding the lease ("" for none).
	Claim       string     `json:"-"`
	LastStatus  int        `json:"last_status"`
	LastError   string     `json:"last_error"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
}

// Query selects deliveries for the admin list, newest first.
type Query struct {
	// Status keeps one state ("" for all).
	Status string
	// Before keeps the rows created before this one's (paging; "" for none).
	Before string
	// Limit bounds the rows (at most 500; 0 means 100).
	Limit int
}

// Store is the outbox. Implementations return usermgmt.ErrNotFound for
// an unknown ID.
type Store interface {
	// InsertWebhookDeliveries stores new deliveries (in the transaction of
	// the change they report, when called on a transaction's Store).
	InsertWebhookDeliveries(ctx context.Context, ds []*Delivery) error
	// WebhookDeliveryDue reports whether a pending delivery is due at
	// now: a read, so that an idle worker begins no write transaction.
	WebhookDeliveryDue(ctx context.Context, now time.Time) (bool, error)
	// ClaimWebhookDeliveries, called inside a transaction, takes up to
	// limit pending deliveries due at now, oldest first, and leases them
	// to claim until leaseUntil (NextAttemptAt = leaseUntil). On
	// PostgreSQL it skips the rows another transaction is claiming (FOR
	// UPDATE SKIP LOCKED); SQLite's write transactions run one at a time.
	ClaimWebhookDeliveries(ctx context.Context, now, leaseUntil time.Time, claim string, limit int) ([]*Delivery, error)
	// FinishWebhookDelivery writes the outcome of an attempt (Status,
	// Attempts, NextAttemptAt, LastStatus, LastError, DeliveredAt of d)
	// if the lease is still d.Claim's, and clears the lease; it reports
	// whether it did.
	FinishWebhookDelivery(ctx context.Context, d *Delivery) (bool, error)
	// WebhookDeliveries lists deliveries, newest first.
	WebhookDeliveries(ctx context.Context, q Query) ([]*Delivery, error)
	// WebhookDelivery loads one delivery.
	WebhookDelivery(ctx context.Context, id string) (*Delivery, error)
	// RetryWebhookDelivery makes a delivery pending again, due at now,
	// with its attempts counted from zero and its creation time reset to
	// now (so it gets a new retry period).
	RetryWebhookDelivery(ctx context.Context, id string, now time.Time) error
}
