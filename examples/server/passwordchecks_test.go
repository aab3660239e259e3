package main

import (
	"crypto/sha1" // the range API's key
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/usermgmt/usermgmt/breach"
	"github.com/usermgmt/usermgmt/passwordrules"
)

// defaultPasswordChecks is what the parser returns when no variable is set.
var defaultPasswordChecks = PasswordChecks{HIBPAPIURL: breach.DefaultAPIURL}

func TestPasswordChecksConfig(t *testing.T) {
	c, err := loadConfig(env(map[string]string{
		"BREACHED_PASSWORD_CHECK": "true", "HIBP_API_URL": "http://127.0.0.1:9999/range",
		"PASSWORD_NOT_IDENTITY": "yes", "PASSWORD_MIN_STRENGTH": "60",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := PasswordChecks{Breached: true, HIBPAPIURL: "http://127.0.0.1:9999/range/",
		Rules: passwordrules.Rules{NotIdentity: true, MinStrength: 60}}
	if c.Passwords != want {
		t.Fatalf("Passwords = %+v, want %+v", c.Passwords, want)
	}
	cs, err := c.passwordCheckers(slog.New(slog.DiscardHandler))
	if err != nil || len(cs) != 2 {
		t.Fatalf("passwordCheckers = %d, %v; want the rules and the breach check", len(cs), err)
	}
	c, _ = loadConfig(env(nil))
	if cs, err := c.passwordCheckers(slog.New(slog.DiscardHandler)); err != nil || len(cs) != 0 {
		t.Fatalf("defaults: %d checkers, %v; want none", len(cs), err)
	}
	for name, vars := range map[string]map[string]string{
		"BREACHED_PASSWORD_CHECK": {"BREACHED_PASSWORD_CHECK": "sometimes"},
		"HIBP_API_URL":            {"HIBP_API_URL": "ftp://example.com/range"},
		"PASSWORD_NOT_IDENTITY":   {"PASSWORD_NOT_IDENTITY": "2"},
		"PASSWORD_MIN_STRENGTH":   {"PASSWORD_MIN_STRENGTH": "300"},
	} {
		if _, err := loadConfig(env(vars)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: %v, want an error naming %s", vars, err, name)
		}
	}
}

// The server refuses a breached password at register with 422
// password_breached, against a local fake range server at HIBP_API_URL,
// and a password containing the username with 400 weak_password.
func TestServerPasswordChecks(t *testing.T) {
	const leaked = "Winter-2023-Leak!"
	sum := sha1.Sum([]byte(leaked))
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var hits atomic.Int32
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/range/"+h[:5] || r.Header.Get("Add-Padding") != "true" {
			fmt.Fprintf(w, "%035X:0\r\n", 1)
			return
		}
		fmt.Fprintf(w, "%s:77\r\n%035X:0\r\n", h[5:], 2)
	}))
	defer fake.Close()
	s := startServer(t, map[string]string{"BREACHED_PASSWORD_CHECK": "true", "HIBP_API_URL": fake.URL + "/range/",
		"PASSWORD_NOT_IDENTITY": "true"})
	form := func(pw string) url.Values {
		return url.Values{"username": {"jane_doe"}, "email": {"jane@example.com"}, "password": {pw}, "confirm_password": {pw}}
	}
	var e struct{ Code string }
	s.do(t, http.MethodPost, "/api/auth/register", "", form(leaked), http.StatusUnprocessableEntity, &e)
	if e.Code != "password_breached" || hits.Load() == 0 {
		t.Fatalf("code %q after %d lookups, want password_breached", e.Code, hits.Load())
	}
	s.do(t, http.MethodPost, "/api/auth/register", "", form("My-Jane_Doe-Pass-1"), http.StatusBadRequest, &e)
	if e.Code != "weak_password" {
		t.Fatalf("code %q, want weak_password", e.Code)
	}
	s.do(t, http.MethodPost, "/api/auth/register", "", form("Quiet-Maple-Lantern-7"), http.StatusOK, nil)
}
