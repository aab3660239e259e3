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
				r := serve(t, mux, request{method: "GET", path: tt.path, token: tt.token}.build(t))
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
		serve(t, mux, request{method: "GET", path: "/app/dashboard", token: plain.AccessToken}.build(t)).wantError(t, 401, "session_revoked")
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

// TestGuardAttachesClientInfo: a host route mounted beside New (not
// through its middleware) gets the socket peer's IP and the User-Agent on
// its context from the guard, so the Manager calls it makes audit them; a
// ClientInfo the host attached itself is kept.
func TestGuardAttachesClientInfo(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{})
	admin := e.user("admin_user", usermgmt.RoleAdmin)
	jane := e.register("jane_doe")
	bob := e.register("bob_smith")

	var seen usermgmt.ClientInfo
	ban := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = usermgmt.ClientInfoFrom(r.Context())
		u, _ := httpadapter.CurrentUser(r.Context())
		if _, err := e.m.As(u).Ban(r.Context(), r.PathValue("uuid"), "host ban"); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux := http.NewServeMux()
	mux.Handle("POST /app/ban/{uuid}", httpadapter.RequireRole(e.m, usermgmt.RoleAdmin)(ban))
	mux.Handle("POST /app/perm/ban/{uuid}", httpadapter.RequirePermission(e.m, "admin", "ban")(ban))
	hostInfo := usermgmt.ClientInfo{IP: "203.0.113.9", UserAgent: "host/1"}
	withHostInfo := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(usermgmt.WithClientInfo(r.Context(), hostInfo)))
		})
	}
	mux.Handle("POST /app/host/ban/{uuid}", withHostInfo(httpadapter.RequireAuth(e.m)(ban)))

	lastBanIP := func(uuid string) string {
		t.Helper()
		h, err := e.m.History(t.Context(), uuid, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, entry := range h { // newest first
			if entry.Action == usermgmt.AuditBan {
				return entry.IP
			}
		}
		t.Fatalf("no ban entry for %s", uuid)
		return ""
	}

	r := request{method: "POST", path: "/app/ban/" + jane.uuid, token: admin.AccessToken, header: map[string]string{"User-Agent": "browser/1"}}.build(t)
	r.RemoteAddr = "198.51.100.23:4711"
	serve(t, mux, r).wantStatus(t, 200)
	if want := (usermgmt.ClientInfo{IP: "198.51.100.23", UserAgent: "browser/1"}); seen != want {
		t.Fatalf("client info = %+v, want %+v", seen, want)
	}
	if ip := lastBanIP(jane.uuid); ip != "198.51.100.23" {
		t.Fatalf("audited IP = %q, want the socket peer's", ip)
	}

	// RequirePermission does the same (httptest's peer is 192.0.2.1).
	serve(t, mux, request{method: "POST", path: "/app/perm/ban/" + bob.uuid, token: admin.AccessToken}.build(t)).wantStatus(t, 200)
	if ip := lastBanIP(bob.uuid); ip != "192.0.2.1" {
		t.Fatalf("audited IP = %q, want 192.0.2.1", ip)
	}

	// What the host attached wins.
	carl := e.register("carl_jones")
	serve(t, mux, request{method: "POST", path: "/app/host/ban/" + carl.uuid, token: admin.AccessToken}.build(t)).wantStatus(t, 200)
	if seen != hostInfo || lastBanIP(carl.uuid) != hostInfo.IP {
		t.Fatalf("client info = %+v, audited %q; want the host's %+v", seen, lastBanIP(carl.uuid), hostInfo)
	}
}
