package main

import (
	"net/http"
	"net/url"
	"testing"
)

// TestServerImpersonation: IMPERSONATION_MINUTES turns the impersonate
// feature on, with its lifetime; without it the routes are not served.
func TestServerImpersonation(t *testing.T) {
	const pw = "Correct-Horse-9"
	s := startServer(t, map[string]string{"IMPERSONATION_MINUTES": "20", "ADMIN_PASSWORD": pw})
	var reg tokenResponse
	s.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
		"username": {"jane_doe"}, "email": {"jane@example.com"}, "password": {pw}, "confirm_password": {pw},
	}, http.StatusOK, &reg)
	var me struct {
		UUID           string `json:"uuid"`
		ImpersonatedBy string `json:"impersonated_by"`
	}
	s.do(t, http.MethodGet, "/api/user/me", reg.AccessToken, nil, http.StatusOK, &me)
	jane := me.UUID

	var admin tokenResponse
	s.do(t, http.MethodPost, "/api/auth/login", "", url.Values{"username": {adminUsername}, "password": {pw}}, http.StatusOK, &admin)
	var adminMe struct {
		UUID string `json:"uuid"`
	}
	s.do(t, http.MethodGet, "/api/user/me", admin.AccessToken, nil, http.StatusOK, &adminMe)

	var imp struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	s.do(t, http.MethodPost, "/api/admin/impersonate/"+jane, admin.AccessToken, nil, http.StatusOK, &imp)
	if imp.ExpiresIn != 20*60 {
		t.Errorf("expires_in %d, want 1200", imp.ExpiresIn)
	}
	me = struct {
		UUID           string `json:"uuid"`
		ImpersonatedBy string `json:"impersonated_by"`
	}{}
	s.do(t, http.MethodGet, "/api/user/me", imp.AccessToken, nil, http.StatusOK, &me)
	if me.UUID != jane || me.ImpersonatedBy != adminMe.UUID {
		t.Errorf("/user/me while impersonating: %+v, want %s by %s", me, jane, adminMe.UUID)
	}
	s.do(t, http.MethodPost, "/api/admin/impersonate/"+jane, reg.AccessToken, nil, http.StatusForbidden, nil)
	s.do(t, http.MethodPost, "/api/admin/impersonate/stop", imp.AccessToken, nil, http.StatusNoContent, nil)
	s.do(t, http.MethodGet, "/api/user/me", imp.AccessToken, nil, http.StatusUnauthorized, nil)

	off := startServer(t, map[string]string{"ADMIN_PASSWORD": pw})
	var offAdmin tokenResponse
	off.do(t, http.MethodPost, "/api/auth/login", "", url.Values{"username": {adminUsername}, "password": {pw}}, http.StatusOK, &offAdmin)
	off.do(t, http.MethodPost, "/api/admin/impersonate/"+jane, offAdmin.AccessToken, nil, http.StatusNotFound, nil)
}
