package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testServer is examples/server running in-process on 127.0.0.1.
type testServer struct {
	base string
	logs *syncBuffer
	stop func() error // cancels run's context and returns its result
}

// startServer runs the server with vars on top of test defaults (loopback
// port 0, a throwaway DATA_DIR unless given, bcrypt cost 4).
func startServer(t *testing.T, vars map[string]string) *testServer {
	t.Helper()
	all := map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir(), "BCRYPT_COST": "4"}
	for k, v := range vars {
		all[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, env(all), logs, func(a net.Addr) { addrc <- a }) }()

	select {
	case a := <-addrc:
		var stopped bool
		var result error
		stop := func() error {
			if !stopped {
				stopped = true
				cancel()
				select {
				case result = <-done:
				case <-time.After(20 * time.Second):
					result = errors.New("server did not stop within 20 s")
				}
			}
			return result
		}
		t.Cleanup(func() { _ = stop() })
		return &testServer{base: "http://" + a.String(), logs: logs, stop: stop}
	case err := <-done:
		cancel()
		t.Fatalf("server exited before listening: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("server did not start within 30 s\n%s", logs.String())
	}
	return nil
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (s *testServer) do(t *testing.T, method, path, token string, form url.Values, wantStatus int, out any) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s = %d %s; want %d", method, path, resp.StatusCode, b, wantStatus)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
}

func TestServerEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	s := startServer(t, map[string]string{"DATA_DIR": dataDir})

	s.do(t, http.MethodGet, "/ping", "", nil, http.StatusOK, nil)

	const pw = "Correct-Horse-9"
	var reg tokenResponse
	s.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
		"username": {"jane_doe"}, "email": {"jane@example.com"},
		"password": {pw}, "confirm_password": {pw},
	}, http.StatusOK, &reg)
	if reg.AccessToken == "" || !strings.EqualFold(reg.TokenType, "bearer") {
		t.Fatalf("register answered %+v", reg)
	}

	var login tokenResponse
	s.do(t, http.MethodPost, "/api/auth/login", "", url.Values{
		"username": {"jane_doe"}, "password": {pw}, "grant_type": {"password"},
	}, http.StatusOK, &login)
	if login.AccessToken == "" {
		t.Fatalf("login answered %+v", login)
	}
	s.do(t, http.MethodPost, "/api/auth/login", "", url.Values{
		"username": {"jane_doe"}, "password": {"Wrong-Horse-9"}, "grant_type": {"password"},
	}, http.StatusUnauthorized, nil)

	var me struct {
		UUID     string `json:"uuid"`
		Username string `json:"username"`
		Email    string `json:"email"`
	}
	s.do(t, http.MethodGet, "/api/user/me", login.AccessToken, nil, http.StatusOK, &me)
	if me.Username != "jane_doe" || me.Email != "jane@example.com" || me.UUID == "" {
		t.Errorf("/user/me = %+v", me)
	}
	s.do(t, http.MethodGet, "/api/user/me", "", nil, http.StatusUnauthorized, nil)

	s.do(t, http.MethodPost, "/api/auth/logout", login.AccessToken, nil, http.StatusOK, nil)
	// Logout ends the session: its access token stops working at once.
	s.do(t, http.MethodGet, "/api/user/me", login.AccessToken, nil, http.StatusUnauthorized, nil)
	// The registration's session is another one and still works.
	s.do(t, http.MethodGet, "/api/user/me", reg.AccessToken, nil, http.StatusOK, nil)

	if err := s.stop(); err != nil {
		t.Fatalf("shutdown: %v\n%s", err, s.logs.String())
	}
	out := s.logs.String()
	if !strings.Contains(out, "stopped") {
		t.Errorf("no clean-stop log line:\n%s", out)
	}
	// Secrets never reach the logs.
	for _, f := range []string{jwtSecretFile, adminPasswordFile} {
		secret, err := readSecretFile(filepath.Join(dataDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, secret) {
			t.Errorf("logs contain the content of %s", f)
		}
	}
	if strings.Contains(out, pw) {
		t.Errorf("logs contain a user's password")
	}
	if resp, err := http.Get(s.base + "/ping"); err == nil {
		resp.Body.Close()
		t.Errorf("server still answers after shutdown")
	}

	// A restart over the same DATA_DIR keeps the generated JWT secret: the
	// registration's token still works.
	s2 := startServer(t, map[string]string{"DATA_DIR": dataDir})
	s2.do(t, http.MethodGet, "/api/user/me", reg.AccessToken, nil, http.StatusOK, nil)
	if err := s2.stop(); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dataDir, jwtSecretFile))
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("jwt_secret has mode %v, want 0600", mode)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	err := run(context.Background(), env(map[string]string{"BCRYPT_COST": "lots"}), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "BCRYPT_COST") {
		t.Errorf("run = %v; want an error naming BCRYPT_COST", err)
	}
	err = run(context.Background(), env(map[string]string{"ENVIRONMENT": "production", "DATA_DIR": t.TempDir()}), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET_KEY") {
		t.Errorf("production without a secret: run = %v; want an error naming JWT_SECRET_KEY", err)
	}
}

func TestProductionLogsJSON(t *testing.T) {
	s := startServer(t, map[string]string{
		"ENVIRONMENT":    "production",
		"JWT_SECRET_KEY": "prod-secret-0123456789abcdef-0123456789",
		"ADMIN_PASSWORD": "Admin-Pass-123",
	})
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out := s.logs.String()
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("production log line is not JSON: %s", line)
		}
	}
	if strings.Contains(out, "prod-secret") || strings.Contains(out, "Admin-Pass-123") {
		t.Errorf("logs contain a secret:\n%s", out)
	}
}

// TestServerServesDocs: the server passes Swagger UI to the handler, so the
// documentation page and its assets are served as the reference's were.
func TestServerServesDocs(t *testing.T) {
	s := startServer(t, nil)
	s.do(t, http.MethodGet, "/docs", "", nil, http.StatusOK, nil)
	s.do(t, http.MethodGet, "/docs/assets/swagger-ui-bundle.js", "", nil, http.StatusOK, nil)
	s.do(t, http.MethodGet, "/openapi.json", "", nil, http.StatusOK, nil)
}
