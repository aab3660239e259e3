package httpadapter_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt/httpadapter"
)

func TestCORS(t *testing.T) {
	dsn := backends[0].dsn
	const app, evil = "https://app.example.com", "https://evil.example.net"
	exact := newEnv(t, dsn(t), httpadapter.Options{CORS: httpadapter.CORSOptions{
		AllowedOrigins: []string{app}, AllowCredentials: true, MaxAge: time.Hour,
	}})
	wildcard := newEnv(t, dsn(t), httpadapter.Options{CORS: httpadapter.CORSOptions{
		AllowedOrigins: []string{"*", app}, AllowCredentials: true,
	}})
	off := newEnv(t, dsn(t), httpadapter.Options{})
	preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}

	tests := []struct {
		name        string
		e           *env
		method      string
		origin      string
		extra       map[string]string
		status      int
		allowOrigin string
		credentials string
		methods     bool
		maxAge      string
	}{
		{name: "allowed", e: exact, method: "GET", origin: app, status: 200, allowOrigin: app, credentials: "true"},
		{name: "allowed, other case", e: exact, method: "GET", origin: "https://APP.example.com", status: 200, allowOrigin: "https://APP.example.com", credentials: "true"},
		{name: "disallowed", e: exact, method: "GET", origin: evil, status: 200},
		{name: "no origin", e: exact, method: "GET", status: 200},
		{name: "preflight allowed", e: exact, method: "OPTIONS", origin: app, extra: preflight, status: 204, allowOrigin: app, credentials: "true", methods: true, maxAge: "3600"},
		{name: "preflight disallowed", e: exact, method: "OPTIONS", origin: evil, extra: preflight, status: 204},
		{name: "wildcard never with credentials", e: wildcard, method: "GET", origin: evil, status: 200, allowOrigin: "*"},
		{name: "wildcard preflight", e: wildcard, method: "OPTIONS", origin: evil, extra: preflight, status: 204, allowOrigin: "*", methods: true, maxAge: "600"},
		{name: "exact beside wildcard keeps credentials", e: wildcard, method: "GET", origin: app, status: 200, allowOrigin: app, credentials: "true"},
		{name: "not configured", e: off, method: "GET", origin: app, status: 200},
		{name: "not configured preflight", e: off, method: "OPTIONS", origin: app, extra: preflight, status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.origin != "" {
				h["Origin"] = tt.origin
			}
			for k, v := range tt.extra {
				h[k] = v
			}
			r := tt.e.do(request{method: tt.method, path: "/ping", header: h})
			r.wantStatus(t, tt.status)
			if got := r.header.Get("Access-Control-Allow-Origin"); got != tt.allowOrigin {
				t.Errorf("Allow-Origin = %q, want %q", got, tt.allowOrigin)
			}
			if got := r.header.Get("Access-Control-Allow-Credentials"); got != tt.credentials {
				t.Errorf("Allow-Credentials = %q, want %q", got, tt.credentials)
			}
			if r.header.Get("Access-Control-Allow-Origin") == "*" && r.header.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("wildcard origin with credentials")
			}
			methods := r.header.Get("Access-Control-Allow-Methods")
			if (methods != "") != tt.methods || tt.methods && !strings.Contains(methods, "POST") {
				t.Errorf("Allow-Methods = %q", methods)
			}
			if tt.methods && !strings.Contains(strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), "authorization") {
				t.Errorf("Allow-Headers = %q", r.header.Get("Access-Control-Allow-Headers"))
			}
			if got := r.header.Get("Access-Control-Max-Age"); got != tt.maxAge {
				t.Errorf("Max-Age = %q, want %q", got, tt.maxAge)
			}
			// Vary: Origin whenever CORS is configured, Origin or not.
			if vary := strings.Join(r.header.Values("Vary"), ","); strings.Contains(vary, "Origin") != (tt.e != off) {
				t.Errorf("Vary = %q", vary)
			}
		})
	}
	// A preflight is answered before authentication.
	r := exact.do(request{method: "OPTIONS", path: "/api/user/me", header: map[string]string{"Origin": app, "Access-Control-Request-Method": "GET"}})
	r.wantStatus(t, 204)
	// Errors carry the CORS headers too, so the browser lets the client read them.
	r = exact.do(request{method: "GET", path: "/api/user/me", header: map[string]string{"Origin": app}})
	r.wantError(t, 401, "not_authenticated")
	if r.header.Get("Access-Control-Allow-Origin") != app {
		t.Fatalf("401 without Allow-Origin")
	}
	// Vary: Origin on every answer, errors included, with no Origin sent.
	for _, q := range []request{
		{method: "GET", path: "/api/user/me"},
		{method: "GET", path: "/nowhere"},
		{method: "POST", path: "/api/auth/login", raw: "x", contentType: "text/plain"},
	} {
		r := exact.do(q)
		if vary := r.header.Values("Vary"); !slices.Contains(vary, "Origin") {
			t.Errorf("%s %s: %d with Vary %q", q.method, q.path, r.status, vary)
		}
	}
}
