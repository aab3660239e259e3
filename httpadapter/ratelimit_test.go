package httpadapter_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// from serves q as if sent from addr (ip:port).
func (e *env) from(addr string, q request) result {
	e.t.Helper()
	r := q.build(e.t)
	r.RemoteAddr = addr
	return serve(e.t, e.h, r)
}

func TestGlobalRateLimit(t *testing.T) {
	opts := httpadapter.Options{
		RateLimit:      httpadapter.RateLimitOptions{Enabled: true, Global: usermgmt.Rate{Limit: 5, Window: time.Minute}},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	}
	eachBackendWith(t, opts, func(t *testing.T, e *env) {
		ping := request{method: "GET", path: "/ping"}
		for i := range 5 {
			r := e.from("192.0.2.1:1000", ping)
			r.wantStatus(t, 200)
			if got := r.header.Get("RateLimit-Remaining"); got != strconv.Itoa(4-i) {
				t.Fatalf("request %d: RateLimit-Remaining %q", i, got)
			}
			if r.header.Get("RateLimit-Limit") != "5" || r.header.Get("RateLimit-Policy") != "5;w=60" {
				t.Fatalf("headers %v", r.header)
			}
		}
		// Every request counts, unknown paths included.
		r := e.from("192.0.2.1:1000", request{method: "GET", path: "/nowhere"})
		r.wantError(t, 429, "rate_limited")
		if r.header.Get("Retry-After") != "12" || r.header.Get("RateLimit-Remaining") != "0" || r.header.Get("RateLimit-Reset") != "60" {
			t.Fatalf("429 headers %v", r.header)
		}
		// Other clients are not affected; X-Forwarded-For from an untrusted
		// peer is ignored.
		e.from("192.0.2.2:1000", ping).wantStatus(t, 200)
		e.from("192.0.2.1:1000", request{method: "GET", path: "/ping", header: map[string]string{"X-Forwarded-For": "198.51.100.7"}}).wantError(t, 429, "rate_limited")
		// Behind a trusted proxy, the forwarded client is the key.
		for range 5 {
			e.from("10.1.2.3:1000", request{method: "GET", path: "/ping", header: map[string]string{"X-Forwarded-For": "198.51.100.8"}}).wantStatus(t, 200)
		}
		e.from("10.1.2.3:1000", request{method: "GET", path: "/ping", header: map[string]string{"X-Forwarded-For": "198.51.100.8"}}).wantError(t, 429, "rate_limited")
		e.from("10.1.2.3:1000", request{method: "GET", path: "/ping", header: map[string]string{"X-Forwarded-For": "198.51.100.9"}}).wantStatus(t, 200)
		// IPv6 clients are counted by /64.
		for i := range 5 {
			e.from("[2001:db8:1:2::"+strconv.Itoa(i+1)+"]:1000", ping).wantStatus(t, 200)
		}
		e.from("[2001:db8:1:2:ffff::1]:1000", ping).wantError(t, 429, "rate_limited")
		e.from("[2001:db8:1:3::1]:1000", ping).wantStatus(t, 200)
		// Time restores the budget, one request per Window/Limit.
		e.clock.Advance(12 * time.Second)
		e.from("192.0.2.1:1000", ping).wantStatus(t, 200)
		e.from("192.0.2.1:1000", ping).wantError(t, 429, "rate_limited")
	})
}

func TestRouteRateLimits(t *testing.T) {
	opts := httpadapter.Options{RateLimit: httpadapter.RateLimitOptions{
		Enabled: true,
		Global:  usermgmt.Rate{Limit: 1000, Window: time.Minute},
		Classes: map[string]httpadapter.LimitClass{
			httpadapter.ClassLogin:    {IP: usermgmt.Rate{Limit: 6, Window: time.Minute}, Account: usermgmt.Rate{Limit: 3, Window: time.Minute}},
			httpadapter.ClassRegister: {IP: usermgmt.Rate{Limit: 2, Window: time.Minute}},
		},
	}}
	eachBackendWith(t, opts, func(t *testing.T, e *env) {
		login := func(addr, username string, asJSON bool) result {
			q := request{method: "POST", path: "/api/auth/login"}
			if asJSON {
				q.json = map[string]string{"username": username, "password": "Wrong-pass-1"}
			} else {
				q.form = url.Values{"username": {username}, "password": {"Wrong-pass-1"}}
			}
			return e.from(addr, q)
		}
		// Per account, whatever the IP and the encoding (case folded).
		login("192.0.2.1:1", "jane_doe", false).wantError(t, 401, "invalid_credentials")
		login("192.0.2.2:1", "JANE_DOE", true).wantError(t, 401, "invalid_credentials")
		login("192.0.2.3:1", "jane_doe", false).wantError(t, 401, "invalid_credentials")
		r := login("192.0.2.4:1", "jane_doe", true)
		r.wantError(t, 429, "rate_limited")
		if r.header.Get("Retry-After") != "20" {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
		// Spaces around the name, or a name padded beyond any real one,
		// do not reach another bucket.
		login("192.0.2.5:1", "  jane_doe \t", false).wantError(t, 429, "rate_limited")
		login("192.0.2.6:1", strings.Repeat(" ", 400)+"jane_doe", true).wantError(t, 429, "rate_limited")
		// Per IP, whatever the account.
		for _, name := range []string{"a_user", "b_user", "c_user", "d_user", "e_user"} {
			login("192.0.2.1:1", name, false).wantError(t, 401, "invalid_credentials")
		}
		login("192.0.2.1:1", "f_user", false).wantError(t, 429, "rate_limited")
		// A body over the size limit is still 413 after the limiter read it.
		// (No Content-Length: the limit trips while reading.)
		bigReq := request{method: "POST", path: "/api/auth/login", header: map[string]string{"Content-Type": "application/json"},
			raw: `{"username": "` + strings.Repeat("x", 2<<20) + `"}`}.build(t)
		bigReq.ContentLength, bigReq.RemoteAddr = -1, "192.0.2.50:1"
		serve(t, e.h, bigReq).wantError(t, 413, "request_too_large")
		// Routes without a class only count towards the global limit.
		e.from("192.0.2.1:1", request{method: "GET", path: "/ping"}).wantStatus(t, 200)
		// register has its own class.
		for i, name := range []string{"first_one", "second_one", "third_one"} {
			r := e.from("192.0.2.9:1", request{method: "POST", path: "/api/auth/register", json: map[string]string{
				"username": name, "email": name + "@example.com", "password": password, "confirm_password": password,
			}})
			if i < 2 {
				r.wantStatus(t, 200)
			} else {
				r.wantError(t, 429, "rate_limited")
			}
		}
	})
}

func TestRouteLimitClassTable(t *testing.T) {
	classes := httpadapter.DefaultLimitClasses()
	table := httpadapter.RouteLimitClasses()
	for name, class := range table {
		c, ok := classes[class]
		if !ok || !c.IP.Valid() {
			t.Errorf("route %s: class %q has no IP limit", name, class)
		}
	}
	// The routes that exist now are in their classes.
	names := map[string]bool{}
	for _, r := range httpadapter.Routes(httpFeatures()...) {
		names[r.Name] = true
	}
	for name, want := range map[string]string{"login": httpadapter.ClassLogin, "register": httpadapter.ClassRegister} {
		if !names[name] || table[name] != want {
			t.Errorf("route %s: in table %v, class %q, want %q", name, names[name], table[name], want)
		}
	}
	for _, name := range []string{"login_otp", "send_email_otp", "forgot_password_request", "forgot_password_reset", "resend_verification"} {
		if table[name] == "" {
			t.Errorf("route %s has no class", name)
		}
	}
}

func TestRateLimitMiddleware(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h := httpadapter.RateLimit(e.m, "contact", usermgmt.Rate{Limit: 2, Window: time.Hour})(ok)
	for i, want := range []int{204, 204, 429} {
		r := request{method: "POST", path: "/contact"}.build(t)
		r.RemoteAddr = "203.0.113.5:4000"
		res := serve(t, h, r)
		if res.status != want {
			t.Fatalf("request %d: %d, want %d", i, res.status, want)
		}
		if want == 429 && res.header.Get("Retry-After") != "1800" {
			t.Fatalf("Retry-After %q", res.header.Get("Retry-After"))
		}
	}
}
