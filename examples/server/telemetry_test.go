package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testMetricsToken = "metrics-token-0123456789"

// scrape GETs url with token (none when empty) and returns the status and
// body.
func scrape(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// promtoolCheck runs `promtool check metrics` on an exposition. Without
// promtool the test skips, except in CI (CI=true), where it fails.
func promtoolCheck(t *testing.T, exposition string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("promtool not found (Debian's prometheus package ships it): %v", err)
		}
		t.Skipf("promtool not found: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
	if s := strings.TrimSpace(out.String()); s != "" {
		// promtool prints lint findings (and still exits 0 for some).
		t.Fatalf("promtool check metrics found problems:\n%s", s)
	}
}

// sample finds the value of the first sample of name whose labels include
// every label of want (a "k=\"v\"" list), or fails.
func sample(t *testing.T, exposition, name string, want ...string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{([^}]*)\} (\S+)$`)
	for _, m := range re.FindAllStringSubmatch(exposition, -1) {
		labels := "," + m[1] + ","
		ok := true
		for _, w := range want {
			if !strings.Contains(labels, ","+w+",") {
				ok = false
				break
			}
		}
		if ok {
			return m[2]
		}
	}
	t.Fatalf("no sample %s{%s} in the exposition:\n%s", name, strings.Join(want, ","), grepLines(exposition, name))
	return ""
}

// grepLines returns the lines of s that mention name, for failure messages.
func grepLines(s, name string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, name) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMetricsPromtool drives traffic through the server with
// METRICS_ENABLED, scrapes /metrics on the main port behind METRICS_TOKEN,
// checks the instruments of docs/metrics.md and passes the exposition to
// promtool.
func TestMetricsPromtool(t *testing.T) {
	s := startServer(t, map[string]string{
		"METRICS_ENABLED": "true", "METRICS_TOKEN": testMetricsToken,
		"RATE_LIMITER_MAX_REQUESTS": "40", "LOGIN_LOCKOUT_THRESHOLD": "2",
		"EMAIL_METHOD": "log", // a verification mail per registration, printed
	})

	const pw = "Correct-Horse-9"
	var reg tokenResponse
	s.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
		"username": {"jane_doe"}, "email": {"jane@example.com"}, "password": {pw}, "confirm_password": {pw},
	}, http.StatusOK, &reg)
	s.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
		"username": {"mark_roe"}, "email": {"mark@example.com"}, "password": {pw}, "confirm_password": {pw},
	}, http.StatusOK, nil)
	var login tokenResponse
	s.do(t, http.MethodPost, "/api/auth/login", "", url.Values{"username": {"jane_doe"}, "password": {pw}}, http.StatusOK, &login)
	s.do(t, http.MethodGet, "/api/user/me", login.AccessToken, nil, http.StatusOK, nil)
	s.do(t, http.MethodGet, "/api/user/me", login.AccessToken, nil, http.StatusOK, nil)
	var refreshed tokenResponse
	s.do(t, http.MethodPost, "/api/auth/refresh", "", url.Values{"refresh_token": {login.RefreshToken}}, http.StatusOK, &refreshed)
	// Rotated twice, the session's first token is two generations old: a
	// reuse, which revokes the session.
	var twice tokenResponse
	s.do(t, http.MethodPost, "/api/auth/refresh", "", url.Values{"refresh_token": {refreshed.RefreshToken}}, http.StatusOK, &twice)
	s.do(t, http.MethodPost, "/api/auth/refresh", "", url.Values{"refresh_token": {login.RefreshToken}}, http.StatusUnauthorized, nil)
	// Three wrong passwords: the second locks the account (threshold 2).
	for range 3 {
		s.do(t, http.MethodPost, "/api/auth/login", "", url.Values{"username": {"mark_roe"}, "password": {"Wrong-Horse-9"}}, http.StatusUnauthorized, nil)
	}
	s.do(t, http.MethodGet, "/no/such/path/8f14e45f", "", nil, http.StatusNotFound, nil)
	// The global limit (40 per window): /ping until it refuses.
	refused := false
	for i := 0; i < 60 && !refused; i++ {
		st, _ := scrape(t, s.base+"/ping", "")
		refused = st == http.StatusTooManyRequests
	}
	if !refused {
		t.Fatal("the global rate limit never refused /ping")
	}

	if st, body := scrape(t, s.base+"/metrics", ""); st != http.StatusUnauthorized || !strings.Contains(body, `"code":"not_authenticated"`) {
		t.Fatalf("GET /metrics without the token = %d %s; want 401 not_authenticated", st, body)
	}
	if st, _ := scrape(t, s.base+"/metrics", testMetricsToken+"x"); st != http.StatusUnauthorized {
		t.Fatalf("GET /metrics with a wrong token = %d; want 401", st)
	}
	// The mails go out from a queue: wait (5 s at most) for their count.
	var st int
	var body string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, body = scrape(t, s.base+"/metrics", testMetricsToken)
		if st != http.StatusOK {
			t.Fatalf("GET /metrics = %d %s", st, body)
		}
		if strings.Contains(body, "usermgmt_mails_total{") || time.Now().After(deadline) {
			break
		}
	}

	for _, c := range []struct {
		name  string
		attrs []string
		min   float64
	}{
		{"usermgmt_registrations_total", []string{`outcome="success"`}, 2},
		{"usermgmt_logins_total", []string{`method="password"`, `outcome="success"`}, 1},
		{"usermgmt_logins_total", []string{`method="password"`, `outcome="invalid_credentials"`}, 3},
		{"usermgmt_refreshes_total", []string{`outcome="success"`}, 2},
		{"usermgmt_refreshes_total", []string{`outcome="session_revoked"`}, 1},
		{"usermgmt_refresh_reuse_detections_total", nil, 1},
		{"usermgmt_lockouts_total", nil, 1},
		{"usermgmt_mails_total", []string{`kind="verify_email"`, `outcome="sent"`}, 2},
		{"usermgmt_ratelimit_refusals_total", []string{`class="global"`}, 1},
		{"usermgmt_cache_lookups_total", []string{`cache="token"`, `result="hit"`}, 1},
		{"usermgmt_cache_lookups_total", []string{`cache="profile"`, `result="miss"`}, 1},
		{"usermgmt_hash_wait_seconds_count", nil, 6},
		{"http_server_request_duration_seconds_count", []string{`http_route="/api/user/me"`, `http_response_status_code="200"`, `http_request_method="GET"`}, 2},
		{"http_server_request_duration_seconds_count", []string{`http_route="/api/auth/login"`, `http_response_status_code="401"`}, 3},
		// The global limit refuses before routing: no http_route.
		{"http_server_request_duration_seconds_count", []string{`http_request_method="GET"`, `http_response_status_code="429"`}, 1},
		{"http_server_request_duration_seconds_count", []string{`http_response_status_code="404"`}, 1},
	} {
		v := sample(t, body, c.name, c.attrs...)
		if n, err := strconv.ParseFloat(v, 64); err != nil || n < c.min {
			t.Errorf("%s{%s} = %s; want at least %v", c.name, strings.Join(c.attrs, ","), v, c.min)
		}
	}
	if strings.Contains(body, "8f14e45f") {
		t.Error("the exposition holds a raw request path")
	}
	promtoolCheck(t, body)
}

// TestMetricsAddr serves /metrics on METRICS_ADDR only: the main port
// answers it 404, the metrics listener without a token.
func TestMetricsAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := startServer(t, map[string]string{"METRICS_ENABLED": "true", "METRICS_ADDR": addr})
	s.do(t, http.MethodGet, "/ping", "", nil, http.StatusOK, nil)
	if st, _ := scrape(t, s.base+"/metrics", ""); st != http.StatusNotFound {
		t.Errorf("GET /metrics on the main port = %d; want 404", st)
	}
	st, body := scrape(t, "http://"+addr+"/metrics", "")
	if st != http.StatusOK {
		t.Fatalf("GET /metrics on METRICS_ADDR = %d %s", st, body)
	}
	sample(t, body, "http_server_request_duration_seconds_count", `http_route="/ping"`)
	if st, _ := scrape(t, "http://"+addr+"/other", ""); st != http.StatusNotFound {
		t.Errorf("GET /other on METRICS_ADDR = %d; want 404", st)
	}
	promtoolCheck(t, body)
}

// TestMetricsConfig refuses METRICS_ENABLED without a way to protect it,
// and a short token.
func TestMetricsConfig(t *testing.T) {
	for _, c := range []struct {
		vars map[string]string
		want string // in the error; "" for none
	}{
		{map[string]string{"METRICS_ENABLED": "true"}, "METRICS_ENABLED needs METRICS_TOKEN"},
		{map[string]string{"METRICS_ENABLED": "true", "METRICS_TOKEN": "short"}, "METRICS_TOKEN must be at least 16 bytes"},
		{map[string]string{"METRICS_ENABLED": "true", "METRICS_ADDR": "nonsense"}, "METRICS_ADDR"},
		{map[string]string{"METRICS_ENABLED": "true", "METRICS_TOKEN": testMetricsToken}, ""},
		{map[string]string{"METRICS_TOKEN": "short"}, ""}, // off: not read
	} {
		_, err := loadConfig(env(c.vars))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v", c.vars, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: error %v; want one containing %q", c.vars, err, c.want)
		}
	}
}
