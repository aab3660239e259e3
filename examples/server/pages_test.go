package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
