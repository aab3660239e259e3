package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/internal/testredis"
)

// sharedVars are the settings of two instances of one deployment: one
// PostgreSQL database, one JWT key, one admin.
func sharedVars(t *testing.T) map[string]string {
	return map[string]string{
		"DATABASE_URI":   testpg.DSN(t),
		"JWT_SECRET_KEY": "two-instances-share-this-secret-key!",
		"ADMIN_PASSWORD": "Admin-Pass-123",
	}
}

// TestTwoInstancesShareOneLimit: two servers on one PostgreSQL and one
// Redis count a client's requests together, whichever instance they reach.
func TestTwoInstancesShareOneLimit(t *testing.T) {
	_, prefix := testredis.Client(t)
	vars := sharedVars(t)
	for k, v := range map[string]string{
		"RATE_LIMITER_ENABLED": "true", "RATE_LIMITER_MAX_REQUESTS": "10", "RATE_LIMITER_WINDOW_SECONDS": "3600",
		"REDIS_URL": testredis.URL(t), "REDIS_KEY_PREFIX": prefix, "REDIS_FAILURE_MODE": "closed",
	} {
		vars[k] = v
	}
	a, b := startServer(t, vars), startServer(t, vars)
	for i := range 10 {
		s := a
		if i%2 == 1 {
			s = b
		}
		s.do(t, "GET", "/ping", "", nil, http.StatusOK, nil)
	}
	a.do(t, "GET", "/ping", "", nil, http.StatusTooManyRequests, nil)
	b.do(t, "GET", "/ping", "", nil, http.StatusTooManyRequests, nil)
}

// TestTwoInstancesSeeFlagChanges: a flag changed through one server gates
// the route on the other within 2 s (FEATURE_FLAGS_POLL_SECONDS=1).
func TestTwoInstancesSeeFlagChanges(t *testing.T) {
	vars := sharedVars(t)
	vars["FEATURE_FLAGS_ENABLED"] = "true"
	vars["FEATURE_FLAGS_POLL_SECONDS"] = "1"
	vars["RATE_LIMITER_ENABLED"] = "false"
	a, b := startServer(t, vars), startServer(t, vars)

	var admin tokenResponse
	a.do(t, "POST", "/api/auth/login", "", url.Values{"username": {"admin"}, "password": {"Admin-Pass-123"}}, http.StatusOK, &admin)
	b.do(t, "GET", "/version", "", nil, http.StatusOK, nil)

	changed := time.Now()
	a.do(t, "PATCH", "/api/admin/feature_flags", admin.AccessToken, url.Values{"add": {`{"_VERSION": false}`}}, http.StatusOK, nil)
	a.do(t, "GET", "/version", "", nil, http.StatusForbidden, nil) // at once where it was made
	for {
		if status := get(t, b.base+"/version"); status == http.StatusForbidden {
			break
		}
		if time.Since(changed) > 2*time.Second {
			t.Fatal("the other instance still serves /version 2 s after the flag was turned off")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the other instance applied the change after %v", time.Since(changed).Round(time.Millisecond))

	// And back on, through the other instance.
	b.do(t, "PATCH", "/api/admin/feature_flags", admin.AccessToken, url.Values{"remove": {"_VERSION"}}, http.StatusOK, nil)
	changed = time.Now()
	for get(t, a.base+"/version") != http.StatusOK {
		if time.Since(changed) > 2*time.Second {
			t.Fatal("the first instance still refuses /version 2 s after the flag was removed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get returns the status of a GET of u.
func get(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
