package httpadapter_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestHostMiddleware guards a host's own routes mounted beside the library
// on one ServeMux.
func TestHostMiddleware(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		mod := e.user("mod_user", usermgmt.RoleModerator)
		plain := e.register("plain_user")

		hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, ok := httpadapter.CurrentUser(r.Context())
			p, pok := httpadapter.CurrentPrincipal(r.Context())
			if !ok || !pok || p.User() != u {
				http.Error(w, "no user", http.StatusInternalServerError)
				return
			}
			fmt.Fprintf(w, "hello %s", u.Username)
		})
		mux := http.NewServeMux()
		mux.Handle("/", e.h)
		mux.Handle("GET /app/dashboard", httpadapter.RequireAuth(e.m)(hello))
		mux.Handle("GET /app/staff", httpadapter.RequireRole(e.m, usermgmt.RoleModerator, usermgmt.RoleAdmin)(hello))
		mux.Handle("GET /app/audit", httpadapter.RequirePermission(e.m, "admin", "audit")(hello))
		mux.Handle("GET /app/nested", httpadapter.RequireAuth(e.m)(httpadapter.RequireRole(e.m, usermgmt.RoleAdmin)(hello)))
		mux.Handle("GET /app/open", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, ok := httpadapter.CurrentUser(r.Context()); ok {
				http.Error(w, "unexpected user", http.StatusInternalServerError)
				return
			}
			fmt.Fprint(w, "open")
		}))

		tests := []struct {
			path, token string
			status      int
			code, body  string
		}{
			{"/app/dashboard", plain.AccessToken, 200, "", "hello plain_user"},
			{"/app/dashboard", "", 401, "not_authenticated", ""},
			{"/app/dashboard", "garbage", 401, "invalid_token", ""},
			{"/app/staff", plain.AccessToken, 403, "forbidden", ""},
			{"/app/staff", mod.AccessToken, 200, "", "hello mod_user"},
			{"/app/staff", admin.AccessToken, 200, "", "hello admin_user"},
			{"/app/staff", "", 401, "not_authenticated", ""},
			{"/app/audit", admin.AccessToken, 200, "", "hello admin_user"},
			{"/app/audit", mod.AccessToken, 403, "forbidden", ""},
			{"/app/nested", admin.AccessToken, 200, "", "hello admin_user"},
			{"/app/nested", plain.AccessToken, 403, "forbidden", ""},
			{"/app/open", "", 200, "", "open"},
			// The library beside the host's routes.
			{"/api/user/me", plain.AccessToken, 200, "", ""},
			{"/ping", "", 200, "", `"pong"`},
			{"/app/missing", "", 404, "not_found", ""},
		}
		for _, tt := range tests {
			t.Run(tt.path+" "+tt.body+tt.code, func(t *testing.T) {
				r := serve(mux, request{method: "GET", path: tt.path, token: tt.token}.build(t))
				if tt.code != "" {
					r.wantError(t, tt.status, tt.code)
					return
				}
				r.wantStatus(t, tt.status)
				if tt.body != "" && string(r.body) != tt.body {
					t.Fatalf("body = %q, want %q", r.body, tt.body)
				}
			})
		}
		// A logged-out token no longer passes.
		e.do(request{method: "POST", path: "/api/auth/logout", token: plain.AccessToken}).wantStatus(t, 200)
		serve(mux, request{method: "GET", path: "/app/dashboard", token: plain.AccessToken}.build(t)).wantError(t, 401, "session_revoked")
	})
}

// TestClientInfoReachesManager checks that the client address New derives
// (through a trusted proxy) is what the Manager records on the session.
func TestClientInfoReachesManager(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	a := e.register("proxied_user")
	tk := e.do(request{method: "POST", path: "/api/auth/login", header: map[string]string{"X-Forwarded-For": "203.0.113.50, 198.51.100.7", "User-Agent": "ua/2"},
		form: url.Values{"username": {a.username}, "password": {password}}}).tokens(t)
	ss, err := e.m.Sessions(t.Context(), a.uuid)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, s := range ss {
		if e.whoami(tk.AccessToken) == s.UserUUID && s.UserAgent == "ua/2" {
			found = true
			if s.IP != "198.51.100.7" {
				t.Fatalf("session IP = %q, want the right-most untrusted address", s.IP)
			}
		}
	}
	if !found {
		t.Fatalf("login session not found among %d", len(ss))
	}
}
