package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// postJSON sends a JSON body with a bearer token and returns the status
// and the decoded answer.
func postJSON(t *testing.T, s *testServer, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// TestServerOrganizations: ORGANIZATIONS_ENABLED=true serves the
// organization routes and switch-org, whose token carries org_id and
// org_role; by default the routes are not there.
func TestServerOrganizations(t *testing.T) {
	const pw = "Correct-Horse-9"
	s := startServer(t, map[string]string{"ORGANIZATIONS_ENABLED": "true"})
	var reg tokenResponse
	s.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
		"username": {"jane_doe"}, "email": {"jane@example.com"}, "password": {pw}, "confirm_password": {pw},
	}, http.StatusOK, &reg)
	code, made := postJSON(t, s, "/api/orgs", reg.AccessToken, `{"name":"Acme","slug":"acme"}`)
	id, _ := made["id"].(string)
	if code != http.StatusCreated || id == "" {
		t.Fatalf("POST /api/orgs = %d %v", code, made)
	}
	code, sw := postJSON(t, s, "/api/auth/switch-org", reg.AccessToken, `{"org_id":"`+id+`"}`)
	access, _ := sw["access_token"].(string)
	if code != http.StatusOK || strings.Count(access, ".") != 2 {
		t.Fatalf("switch-org = %d %v", code, sw)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(access, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil || claims["org_id"] != id || claims["org_role"] != "owner" {
		t.Errorf("switched claims = %s (%v)", payload, err)
	}
	var me map[string]any
	s.do(t, http.MethodGet, "/api/user/me", access, nil, http.StatusOK, &me)

	off := startServer(t, nil)
	var offReg tokenResponse
	off.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
		"username": {"jane_doe"}, "email": {"jane@example.com"}, "password": {pw}, "confirm_password": {pw},
	}, http.StatusOK, &offReg)
	if code, _ := postJSON(t, off, "/api/orgs", offReg.AccessToken, `{"name":"Acme","slug":"acme"}`); code != http.StatusNotFound {
		t.Errorf("POST /api/orgs without ORGANIZATIONS_ENABLED = %d, want 404", code)
	}
	if code, _ := postJSON(t, off, "/api/auth/switch-org", offReg.AccessToken, `{"org_id":null}`); code != http.StatusNotFound {
		t.Errorf("switch-org without ORGANIZATIONS_ENABLED = %d, want 404", code)
	}
}
