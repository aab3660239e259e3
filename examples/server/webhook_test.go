package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt/webhook/verify"
)

const testWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestServerSendsWebhooks: with WEBHOOK_URLS the server signs and sends
// the events of a registration and a login (the registration's own
// session has no session.created: the core audits it as the register); the receiver checks every
// signature with webhook/verify, and an admin sees the deliveries.
func TestServerSendsWebhooks(t *testing.T) {
	v, err := verify.New(testWebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var types []string
	bad := 0
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		mu.Lock()
		defer mu.Unlock()
		var ev struct{ Type string }
		if err != nil || v.Verify(r.Header, body, time.Now()) != nil || json.Unmarshal(body, &ev) != nil {
			bad++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		types = append(types, ev.Type)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()
	s := startServer(t, map[string]string{"WEBHOOK_URLS": rc.URL + "/hooks", "WEBHOOK_SECRET": testWebhookSecret,
		"WEBHOOK_ALLOW_PRIVATE": "true", "ADMIN_EMAIL": "admin@example.com", "ADMIN_PASSWORD": "Admin-Pass-123"})
	const pw = "Correct-Horse-9"
	s.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
		"username": {"jane_doe"}, "email": {"jane@example.com"}, "password": {pw}, "confirm_password": {pw},
	}, http.StatusOK, nil)
	s.do(t, http.MethodPost, "/api/auth/login", "", url.Values{"username": {"jane_doe"}, "password": {pw}, "grant_type": {"password"}}, http.StatusOK, nil)
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		got := strings.Join(types, " ")
		mu.Unlock()
		if strings.Contains(got, "user.created") && strings.Contains(got, "session.created") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver got %q (%d bad)\n%s", got, bad, s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	if bad != 0 {
		t.Errorf("%d requests failed the signature check", bad)
	}
	mu.Unlock()
	var admin tokenResponse
	s.do(t, http.MethodPost, "/api/auth/login", "", url.Values{"username": {"admin"}, "password": {"Admin-Pass-123"}, "grant_type": {"password"}}, http.StatusOK, &admin)
	var ds []struct {
		Status   string `json:"status"`
		Endpoint string `json:"endpoint"`
	}
	s.do(t, http.MethodGet, "/api/admin/webhooks/deliveries?status=delivered", admin.AccessToken, nil, http.StatusOK, &ds)
	if len(ds) < 2 || ds[0].Endpoint != rc.URL+"/hooks" {
		t.Fatalf("delivered: %+v", ds)
	}
}

func TestWebhookConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		vars map[string]string
		want string
	}{
		"no secret":  {map[string]string{"WEBHOOK_URLS": "https://hooks.example.com/x"}, "WEBHOOK_SECRET"},
		"bad secret": {map[string]string{"WEBHOOK_URLS": "https://hooks.example.com/x", "WEBHOOK_SECRET": "whsec_short"}, "WEBHOOK_SECRET"},
		"bad url":    {map[string]string{"WEBHOOK_URLS": "ftp://hooks.example.com", "WEBHOOK_SECRET": testWebhookSecret}, "WEBHOOK_URLS"},
	} {
		_, err := loadConfig(env(tc.vars))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "whsec_short") {
			t.Errorf("%s: %v", name, err)
		}
	}
	c, err := loadConfig(env(map[string]string{"WEBHOOK_URLS": "https://a.example.com/x, https://b.example.com/y",
		"WEBHOOK_SECRET": testWebhookSecret + "," + testWebhookSecret}))
	if err != nil || len(c.Webhooks.URLs) != 2 || len(c.Webhooks.Secrets) != 2 || c.Webhooks.AllowPrivate {
		t.Fatalf("%+v, %v", c.Webhooks, err)
	}
}
