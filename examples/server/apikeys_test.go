package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestServerAPIKeys: the server enables API keys by default: a user makes
// one, it authenticates as X-API-Key, and API_KEYS_ENABLED=false leaves
// the routes out.
func TestServerAPIKeys(t *testing.T) {
	const pw = "Correct-Horse-9"
	s := startServer(t, nil)
	var reg tokenResponse
	s.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
		"username": {"jane_doe"}, "email": {"jane@example.com"}, "password": {pw}, "confirm_password": {pw},
	}, http.StatusOK, &reg)

	req, err := http.NewRequest(http.MethodPost, s.base+"/api/user/me/api-keys", strings.NewReader(`{"name":"ci","scopes":["user:read"]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+reg.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create a key: %d %s", resp.StatusCode, b)
	}
	var made struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(b, &made); err != nil || !strings.HasPrefix(made.Key, "um_") {
		t.Fatalf("created key %q (%v)", made.Key, err)
	}

	me, err := http.NewRequest(http.MethodGet, s.base+"/api/user/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	me.Header.Set("X-API-Key", made.Key)
	resp, err = http.DefaultClient.Do(me)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"jane_doe"`) {
		t.Errorf("GET /api/user/me with X-API-Key: %d %s", resp.StatusCode, b)
	}

	off := startServer(t, map[string]string{"API_KEYS_ENABLED": "false"})
	var offReg tokenResponse
	off.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
		"username": {"jane_doe"}, "email": {"jane@example.com"}, "password": {pw}, "confirm_password": {pw},
	}, http.StatusOK, &offReg)
	off.do(t, http.MethodGet, "/api/user/me/api-keys", offReg.AccessToken, nil, http.StatusNotFound, nil)
}
