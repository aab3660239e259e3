package main

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/internal/testpg"
)

func TestServerPages(t *testing.T) {
	dir := t.TempDir()
	logo := filepath.Join(dir, "logo.png")
	logoBytes := []byte("\x89PNG\r\n\x1a\n" + "not really, but sniffed as one")
	if err := os.WriteFile(logo, logoBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	get := func(s *testServer, path string) (int, []byte) {
		t.Helper()
		res, err := http.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}

	on := startServer(t, map[string]string{"PROJECT_NAME": "Acme Accounts", "LOGO_FILE": logo})
	if status, body := get(on, "/login"); status != 200 || !strings.Contains(string(body), "Log in · Acme Accounts") {
		t.Fatalf("GET /login = %d %s", status, body)
	}
	for _, path := range []string{"/logo.png", "/favicon.ico"} { // the favicon falls back to the logo
		if status, body := get(on, path); status != 200 || !bytes.Equal(body, logoBytes) {
			t.Fatalf("GET %s = %d (%d bytes)", path, status, len(body))
		}
	}

	off := startServer(t, map[string]string{"PAGES_ENABLED": "false"})
	if status, _ := get(off, "/login"); status != 404 {
		t.Fatalf("GET /login with PAGES_ENABLED=false = %d", status)
	}

	// A logo file that cannot be read stops the server at startup.
	err := run(t.Context(), env(map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir(), "BCRYPT_COST": "4",
		"FAVICON_FILE": filepath.Join(dir, "missing.ico")}), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "FAVICON_FILE") {
		t.Fatalf("run with a missing FAVICON_FILE = %v", err)
	}
}

// TestServerPagesMailedLinks checks that with the pages served and
// FRONTEND_URL unset, the mailed links lead to the pages: the verification
// to /email-verified, the reset link to /forgot-password/reset.
func TestServerPagesMailedLinks(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			vars := map[string]string{"EMAIL_METHOD": "log"}
			if backend == "postgres" {
				vars["DATABASE_URI"] = testpg.DSN(t)
			}
			s := startServer(t, vars)
			const pw = "Correct-Horse-9"
			s.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
				"username": {"page_jane"}, "email": {"page_jane@example.com"}, "password": {pw}, "confirm_password": {pw},
			}, http.StatusOK, nil)
			token := waitLog(t, s, logToken, 0)
			for _, want := range []string{"/email-verified", "/email-verified?error=1"} { // the second time, the link is spent
				if status, loc, body := send(t, s, "GET", "/api/auth/email/verify?token="+token, "", nil); status != http.StatusTemporaryRedirect || loc != want {
					t.Fatalf("verify = %d %q %s, want %s", status, loc, body, want)
				}
			}

			s.do(t, http.MethodPost, "/api/auth/forgot-password/request", "", url.Values{"email": {"page_jane@example.com"}}, http.StatusOK, nil)
			reset := waitLog(t, s, logToken, 1)
			if !strings.Contains(s.logs.String(), "http://localhost:8000/forgot-password/reset?token="+reset) {
				t.Fatalf("reset link not to the page under BASE_URL:\n%s", s.logs.String())
			}
			status, _, body := send(t, s, "GET", "/forgot-password/reset?token="+reset, "", nil)
			if status != 200 || !strings.Contains(string(body), `name="token" value="`+reset+`"`) {
				t.Fatalf("GET the reset page = %d %s", status, body)
			}
		})
	}
}
