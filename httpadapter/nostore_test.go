package httpadapter_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestNoStore: every answer the adapter writes, success or error, carries
// Cache-Control: no-store (token answers must not be cached, RFC 6749
// section 5.1; the rest is personal).
func TestNoStore(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{
		MaxBodyBytes: 1 << 10,
		CORS:         httpadapter.CORSOptions{AllowedOrigins: []string{"https://app.example.com"}},
	})
	a := e.register("cache_user")
	mux := http.NewServeMux()
	mux.Handle("/", e.h)
	mux.Handle("GET /app/dashboard", httpadapter.RequireAuth(e.m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))

	tests := []struct {
		name   string
		q      request
		status int
	}{
		{"login (tokens)", request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {a.username}, "password": {password}}}, 200},
		{"register (tokens)", request{method: "POST", path: "/api/auth/register", json: map[string]string{
			"username": "other_user", "email": "other@example.com", "password": password, "confirm_password": password}}, 200},
		{"refresh (tokens)", request{method: "POST", path: "/api/auth/refresh", json: map[string]string{"refresh_token": a.RefreshToken}}, 200},
		{"json", request{method: "GET", path: "/api/user/me", token: a.AccessToken}, 200},
		{"text", request{method: "GET", path: "/api/auth/token/validate", token: a.AccessToken}, 200},
		{"root", request{method: "GET", path: "/ping"}, 200},
		{"401", request{method: "GET", path: "/api/user/me"}, 401},
		{"404", request{method: "GET", path: "/nowhere"}, 404},
		{"405", request{method: "DELETE", path: "/ping"}, 405},
		{"413", request{method: "POST", path: "/api/auth/login", raw: strings.Repeat("x", 2<<10), contentType: "text/plain"}, 413},
		{"415", request{method: "POST", path: "/api/auth/login", raw: "x", contentType: "text/plain"}, 415},
		{"422", request{method: "POST", path: "/api/auth/login", json: map[string]string{}}, 422},
		{"preflight", request{method: "OPTIONS", path: "/api/user/me", header: map[string]string{
			"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"}}, 204},
		{"guard 401", request{method: "GET", path: "/app/dashboard"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := serve(t, mux, tt.q.build(t))
			r.wantStatus(t, tt.status)
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Fatalf("Cache-Control = %q, want no-store", got)
			}
		})
	}
	// The logout answer too (empty-bodied answers go through the same path).
	r := e.do(request{method: "POST", path: "/api/auth/logout", token: a.AccessToken})
	r.wantStatus(t, 200)
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Fatalf("logout Cache-Control = %q", got)
	}
}
