// Package webhook sends the Manager's events to HTTP endpoints, never
// losing one: each event is written to an outbox (hookstore, table
// webhook_deliveries) in the transaction of the change it reports, then
// delivered by a worker (Hooks.Run) with the Standard Webhooks headers
// (webhook-id, webhook-timestamp, webhook-signature), at least once, with
// exponential backoff and jitter for Config.RetryFor (24 h), after which
// the delivery is dead: listed for admins (GET
// {API}/admin/webhooks/deliveries) and retried on demand (POST
// .../{id}/retry). Several instances on one database share the work: a
// claim leases each delivery to one worker (FOR UPDATE SKIP LOCKED on
// PostgreSQL), so that each event goes out once in the normal case and
// again only after a worker died holding it.
//
//	hooks, err := webhook.New(webhook.Config{Endpoints: urls, Secrets: []string{"whsec_..."}})
//	m, err := usermgmt.New(cfg, usermgmt.WithFeature(hooks))
//	go hooks.Run(ctx)
//
// Receivers check the signature with the package webhook/verify.
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/webhook/hookstore"
	"github.com/usermgmt/usermgmt/webhook/verify"
)

// Config configures the feature. The zero durations take the defaults.
type Config struct {
	// Endpoints are the URLs (http or https) every event is sent to.
	Endpoints []string
	// Secrets sign each request, each "whsec_" and base64 of 24 to 64
	// bytes: every one signs (webhook-signature lists one signature per
	// secret), so that a receiver can move to a new secret while the old
	// one still verifies. At least one when there are endpoints.
	Secrets []string
	// AllowPrivate lets deliveries go to loopback, private and link-local
	// addresses (tests, a receiver on the same host). Off by default:
	// only public addresses are dialled, checked on the address actually
	// connected to.
	AllowPrivate bool
	// Timeout bounds one attempt: connection, request and the answer's
	// body (default 10 s).
	Timeout time.Duration
	// MaxResponseBytes bounds how much of an answer's body is read
	// (default 64 KiB); the rest is dropped with the connection.
	MaxResponseBytes int64
	// RetryFor is how long a failing delivery is retried before it is
	// dead (default 24 h).
	RetryFor time.Duration
	// Lease is how long a worker holds a delivery it claimed before
	// another may take it (default Timeout + 30 s).
	Lease time.Duration
	// PollInterval is how often Run looks for due deliveries (default 1 s).
	PollInterval time.Duration
	// Batch is how many deliveries one claim takes (default 16), sent
	// Concurrency at a time (default 4).
	Batch, Concurrency int
	// Clock returns the time (default time.Now).
	Clock func() time.Time
	// Logger receives the worker's logs (default slog.Default()); no
	// secret or payload is logged.
	Logger *slog.Logger
	// Transport, when set, replaces the HTTP transport (tests); the
	// address check of AllowPrivate is then the transport's business.
	Transport http.RoundTripper
}

// The defaults of Config.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 64 << 10
	DefaultRetryFor         = 24 * time.Hour
	DefaultPollInterval     = time.Second
)

// ErrConfig is matched (errors.Is) by New's errors.
var ErrConfig = errors.New("webhook: invalid configuration")

// Hooks is the feature: pass it to usermgmt.WithFeature, and run its
// worker with Run. It implements usermgmt.EventWriter (the outbox rows,
// in the change's transaction) and httpadapter.Feature (the admin routes).
type Hooks struct {
	cfg    Config
	keys   [][]byte
	client *http.Client
	log    *slog.Logger
	m      *usermgmt.Manager
}

// New checks cfg and returns the feature.
func New(cfg Config) (*Hooks, error) {
	for _, e := range cfg.Endpoints {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return nil, fmt.Errorf("%w: endpoint %q is not an http(s) URL without credentials", ErrConfig, e)
		}
	}
	if len(cfg.Endpoints) > 0 && len(cfg.Secrets) == 0 {
		return nil, fmt.Errorf("%w: endpoints need at least one secret", ErrConfig)
	}
	h := &Hooks{cfg: cfg, log: cfg.Logger}
	for i, s := range cfg.Secrets {
		key, err := verify.ParseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("%w: secret %d: %w", ErrConfig, i+1, err)
		}
		h.keys = append(h.keys, key)
	}
	c := &h.cfg
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.RetryFor <= 0 {
		c.RetryFor = DefaultRetryFor
	}
	if c.Lease <= 0 {
		c.Lease = c.Timeout + 30*time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Batch <= 0 {
		c.Batch = 16
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.client = newClient(c.Timeout, c.AllowPrivate, c.Transport)
	return h, nil
}

// FeatureName implements usermgmt.Feature.
func (h *Hooks) FeatureName() string { return "webhook" }

// InitFeature implements usermgmt.Feature: the store must implement
// hookstore.Store.
func (h *Hooks) InitFeature(m *usermgmt.Manager) error {
	if _, err := usermgmt.NeedStore[hookstore.Store](m.Store(), h.FeatureName()); err != nil {
		return err
	}
	h.m = m
	return nil
}

// WantsEvent implements usermgmt.EventWriter: the entries that are
// events, when there is an endpoint to send them to.
func (h *Hooks) WantsEvent(action string) bool {
	if len(h.cfg.Endpoints) == 0 {
		return false
	}
	_, ok := EventType(action, "")
	return ok
}

// WriteEvent implements usermgmt.EventWriter: one outbox row per
// endpoint, in tx, due now.
func (h *Hooks) WriteEvent(ctx context.Context, tx usermgmt.Store, e usermgmt.AuditEntry) error {
	st, err := usermgmt.NeedStore[hookstore.Store](tx, h.FeatureName())
	if err != nil {
		return err
	}
	ev, ok, err := newEvent(ctx, tx, e)
	if err != nil || !ok {
		return err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	eventID, err := newID("msg_")
	if err != nil {
		return err
	}
	now := h.cfg.Clock().UTC()
	ds := make([]*hookstore.Delivery, len(h.cfg.Endpoints))
	for i, ep := range h.cfg.Endpoints {
		id, err := newID("whd_")
		if err != nil {
			return err
		}
		ds[i] = &hookstore.Delivery{ID: id, EventID: eventID, EventType: ev.Type, Endpoint: ep, Payload: body,
			CreatedAt: now, Status: hookstore.StatusPending, NextAttemptAt: now}
	}
	return st.InsertWebhookDeliveries(ctx, ds)
}

// newID returns prefix and 16 random bytes in hex.
func newID(prefix string) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return "", fmt.Errorf("webhook: random id: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}

func isNotFound(err error) bool { return errors.Is(err, usermgmt.ErrNotFound) }
