package breach_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/breach"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/internal/testdns"
	"github.com/usermgmt/usermgmt/mail"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

type api struct {
	t   *testing.T
	srv *httptest.Server
}

// call sends a JSON body and returns the status and the decoded answer.
func (a api) call(method, path, token string, body any) (int, map[string]any) {
	a.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		a.t.Fatal(err)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, bytes.NewReader(b))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.srv.Client().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (a api) wantBreached(what string, status int, out map[string]any) {
	a.t.Helper()
	if status != http.StatusUnprocessableEntity || out["code"] != "password_breached" {
		a.t.Fatalf("%s with a breached password: %d %v, want 422 password_breached", what, status, out)
	}
}

var tokenInLink = regexp.MustCompile(`token=([A-Za-z0-9_\-.%]+)`)

// TestHTTPRefusesBreachedPasswords: register, reset, change and a patch
// refuse a breached password with 422 password_breached through the HTTP
// adapter, against the local fake range server; a clean password passes.
func TestHTTPRefusesBreachedPasswords(t *testing.T) {
	const leaked, clean, clean2, clean3 = "Summer-2024-Leak!", "Quiet-Maple-Lantern-7", "Brisk-Harbor-Violet-3", "Amber-Signal-Otter-5"
	s := newRangeServer(t, map[string]int{leaked: 120})
	c, _, _ := newChecker(t, s, breach.Options{})
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mailbox := &mail.Memory{}
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("0123456789abcdef0123456789abcdef"), BcryptCost: 4,
		BaseURL: "https://app.example.com", Logger: slog.New(slog.DiscardHandler)},
		usermgmt.WithPasswordChecker(c), usermgmt.WithMailer(mailbox), usermgmt.WithResolver(testdns.AnyDomain{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	a := api{t: t, srv: httptest.NewServer(httpadapter.New(m, httpadapter.Options{}))}
	t.Cleanup(a.srv.Close)

	reg := map[string]string{"username": "jane_doe", "email": "jane@example.com", "password": leaked, "confirm_password": leaked}
	status, out := a.call("POST", "/api/auth/register", "", reg)
	a.wantBreached("register", status, out)
	if _, err := m.UserByLogin(ctx, "jane_doe"); err == nil {
		t.Fatal("a refused registration created the user")
	}
	reg["password"], reg["confirm_password"] = clean, clean
	status, out = a.call("POST", "/api/auth/register", "", reg)
	if status != http.StatusOK {
		t.Fatalf("register with a clean password: %d %v", status, out)
	}
	access, _ := out["access_token"].(string)

	// Change.
	chg := map[string]string{"old_password": clean, "new_password": leaked, "confirm_password": leaked}
	status, out = a.call("PATCH", "/api/auth/password", access, chg)
	a.wantBreached("change", status, out)
	chg["new_password"], chg["confirm_password"] = clean2, clean2
	if status, out = a.call("PATCH", "/api/auth/password", access, chg); status != http.StatusOK {
		t.Fatalf("change to a clean password: %d %v", status, out)
	}

	// Reset: the refusal leaves the link usable.
	drain(t, mailbox)
	if status, out = a.call("POST", "/api/auth/forgot-password/request", "", map[string]string{"username": "jane_doe"}); status != http.StatusOK {
		t.Fatalf("forgot: %d %v", status, out)
	}
	token := resetToken(t, mailbox)
	rst := map[string]string{"token": token, "new_password": leaked, "confirm_password": leaked}
	status, out = a.call("POST", "/api/auth/forgot-password/reset", "", rst)
	a.wantBreached("reset", status, out)
	rst["new_password"], rst["confirm_password"] = clean3, clean3
	if status, out = a.call("POST", "/api/auth/forgot-password/reset", "", rst); status != http.StatusOK {
		t.Fatalf("reset to a clean password after a refusal: %d %v", status, out)
	}

	// A patch that sets a password (by an admin).
	admin, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "root_admin", Email: "root@example.com", Password: clean, Roles: []string{usermgmt.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Login(ctx, admin.Username, clean)
	if err != nil {
		t.Fatal(err)
	}
	jane, err := m.UserByLogin(ctx, "jane_doe")
	if err != nil {
		t.Fatal(err)
	}
	status, out = a.call("PATCH", "/api/user/"+jane.UUID, tok.AccessToken, map[string]string{"password": leaked})
	a.wantBreached("patch", status, out)
	if _, err := m.Login(ctx, "jane_doe", clean3); err != nil {
		t.Fatalf("the refused patch changed the password: %v", err)
	}
	// Every lookup went to the fake server, none failed.
	if c.Unavailable() != 0 || len(s.got()) == 0 {
		t.Fatalf("Unavailable = %d, %d requests", c.Unavailable(), len(s.got()))
	}
}

func drain(t *testing.T, mb *mail.Memory) {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		_, err := mb.Next(ctx)
		cancel()
		if err != nil {
			return
		}
	}
}

func resetToken(t *testing.T, mb *mail.Memory) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg, err := mb.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mm := tokenInLink.FindStringSubmatch(msg.Text)
	if mm == nil {
		t.Fatalf("no token in %q", msg.Text)
	}
	tok, err := url.QueryUnescape(mm[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
