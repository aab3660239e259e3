package main

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"github.com/usermgmt/usermgmt/webhook"
	"github.com/usermgmt/usermgmt/webhook/verify"
)

// WebhookConfig is the webhook settings (WEBHOOK_*): off unless
// WEBHOOK_URLS names an endpoint.
type WebhookConfig struct {
	URLs []string
	// Secrets sign every request: WEBHOOK_SECRET, one or more whsec_
	// secrets separated by commas or spaces (two while rotating).
	Secrets      []string // secret
	AllowPrivate bool
}

// webhooks reads WEBHOOK_*; a bad URL or secret is an error naming the
// variable, never quoting a secret.
func (p *parser) webhooks() WebhookConfig {
	w := WebhookConfig{URLs: p.list("WEBHOOK_URLS"), AllowPrivate: p.boolean("WEBHOOK_ALLOW_PRIVATE", false)}
	if v := p.getenv("WEBHOOK_SECRET"); v != "" { // unset stays nil, as the other lists
		w.Secrets = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	}
	for _, u := range w.URLs {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.User != nil {
			p.fail("WEBHOOK_URLS", "must be absolute http:// or https:// URLs without credentials, got %q", u)
		}
	}
	if len(w.URLs) > 0 && len(w.Secrets) == 0 {
		p.fail("WEBHOOK_SECRET", "is required when WEBHOOK_URLS is set (whsec_ and base64 of 24 to 64 random bytes)")
	}
	for _, s := range w.Secrets {
		if _, err := verify.ParseSecret(s); err != nil {
			p.fail("WEBHOOK_SECRET", "must be whsec_ and base64 of 24 to 64 bytes (one or more, comma-separated)")
			break
		}
	}
	return w
}

// feature returns the webhook feature, nil when no endpoint is set.
func (w WebhookConfig) feature(log *slog.Logger) (*webhook.Hooks, error) {
	if len(w.URLs) == 0 {
		return nil, nil
	}
	return webhook.New(webhook.Config{Endpoints: w.URLs, Secrets: w.Secrets, AllowPrivate: w.AllowPrivate, Logger: log})
}

// runWebhooks runs the delivery worker until ctx is done; done is closed
// when it has stopped.
func runWebhooks(ctx context.Context, h *webhook.Hooks) (done chan struct{}) {
	done = make(chan struct{})
	go func() {
		defer close(done)
		_ = h.Run(ctx)
	}()
	return done
}
