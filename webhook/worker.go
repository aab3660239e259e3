package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/internal/netguard"
	"github.com/usermgmt/usermgmt/webhook/hookstore"
	"github.com/usermgmt/usermgmt/webhook/verify"
)

// Run delivers due deliveries until ctx is done, looking every
// PollInterval (at once again after a full batch). Run it on each
// instance: the claims share the work. It returns ctx's error.
func (h *Hooks) Run(ctx context.Context) error {
	t := time.NewTicker(h.cfg.PollInterval)
	defer t.Stop()
	for {
		n, err := h.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "webhook: claiming deliveries failed", "err", err)
		}
		if n == h.cfg.Batch && err == nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RunOnce claims one batch of due deliveries, sends them and records the
// outcomes; it returns how many it claimed.
func (h *Hooks) RunOnce(ctx context.Context) (int, error) {
	if h.m == nil {
		return 0, errors.New("webhook: the feature is not enabled on a Manager (usermgmt.WithFeature)")
	}
	claim, err := newID("")
	if err != nil {
		return 0, err
	}
	now := h.cfg.Clock().UTC()
	st, err := usermgmt.NeedStore[hookstore.Store](h.m.Store(), h.FeatureName())
	if err != nil {
		return 0, err
	}
	if due, err := st.WebhookDeliveryDue(ctx, now); err != nil || !due {
		return 0, err
	}
	var ds []*hookstore.Delivery
	err = h.m.Store().InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		st, err := usermgmt.NeedStore[hookstore.Store](tx, h.FeatureName())
		if err != nil {
			return err
		}
		ds, err = st.ClaimWebhookDeliveries(ctx, now, now.Add(h.cfg.Lease), claim, h.cfg.Batch)
		return err
	})
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, h.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, d := range ds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			h.deliver(ctx, st, d)
		})
	}
	wg.Wait()
	return len(ds), nil
}

// deliver makes one attempt at d and records its outcome.
func (h *Hooks) deliver(ctx context.Context, st hookstore.Store, d *hookstore.Delivery) {
	status, err := h.send(ctx, d)
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and another attempt follows
	}
	now := h.cfg.Clock().UTC()
	d.Attempts++
	d.LastStatus = status
	d.LastError = ""
	if err == nil {
		d.Status, d.DeliveredAt, d.NextAttemptAt = hookstore.StatusDelivered, &now, now
	} else {
		d.LastError = truncate(err.Error(), 500)
		next := now.Add(Backoff(d.Attempts, rand.Float64()))
		if next.After(d.CreatedAt.Add(h.cfg.RetryFor)) {
			d.Status, d.NextAttemptAt = hookstore.StatusDead, now
			h.log.WarnContext(ctx, "webhook: delivery dead after its retry period", "delivery", d.ID, "event", d.EventType, "attempts", d.Attempts, "err", d.LastError)
		} else {
			d.Status, d.NextAttemptAt = hookstore.StatusPending, next
		}
	}
	ok, serr := st.FinishWebhookDelivery(ctx, d)
	if serr == nil && !ok {
		h.log.InfoContext(ctx, "webhook: the lease ran out before the outcome was written", "delivery", d.ID)
	}
	if serr != nil {
		h.log.WarnContext(ctx, "webhook: recording a delivery failed", "delivery", d.ID, "err", serr)
	}
}

// Backoff returns the wait after the given number of failed attempts:
// 5 s doubling to at most an hour, of which a random half (jitter in
// [0, 1)) so that failing receivers are not hit in step.
func Backoff(attempts int, jitter float64) time.Duration {
	d := time.Hour
	if attempts < 11 { // 5 s << 10 > 1 h
		d = min(5*time.Second<<max(attempts-1, 0), time.Hour)
	}
	return d/2 + time.Duration(float64(d/2)*jitter)
}

// send posts d to its endpoint, signed; a 2xx answer is success. It
// follows no redirect, and reads at most MaxResponseBytes of the answer.
func (h *Hooks) send(ctx context.Context, d *hookstore.Delivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Endpoint, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, err
	}
	ts := h.cfg.Clock().Unix()
	sigs := make([]string, len(h.keys))
	for i, k := range h.keys {
		sigs[i] = verify.Sign(k, d.EventID, ts, d.Payload)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "usermgmt-webhook")
	req.Header.Set(verify.HeaderID, d.EventID)
	req.Header.Set(verify.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(verify.HeaderSignature, strings.Join(sigs, " "))
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, h.cfg.MaxResponseBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook: the endpoint answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// newClient returns the client of the deliveries: no redirects followed,
// every phase bounded by timeout, and unless allowPrivate connections to
// public addresses only, checked on the address dialled (after name
// resolution), so that neither a name resolving to 127.0.0.1 nor one
// rebinding between checks reaches the host's network.
func newClient(timeout time.Duration, allowPrivate bool, rt http.RoundTripper) *http.Client {
	if rt == nil {
		dialer := &net.Dialer{Timeout: timeout}
		if !allowPrivate {
			dialer.Control = netguard.Control
		}
		rt = &http.Transport{
			DialContext: dialer.DialContext, TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout,
			MaxIdleConns: 8, IdleConnTimeout: 30 * time.Second, Proxy: nil,
		}
	}
	return &http.Client{Timeout: timeout, Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
