package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools/importref"
)

// The reference's SQLite schema (seed-api.md section 2.1), as its
// create_all writes it.
var referenceSchema = []string{
	`CREATE TABLE users (uuid VARCHAR(36) NOT NULL PRIMARY KEY, username VARCHAR NOT NULL UNIQUE, display_name VARCHAR NOT NULL,
		email VARCHAR NOT NULL UNIQUE, email_verified BOOLEAN NOT NULL, hashed_password VARCHAR NOT NULL, otp_method VARCHAR NOT NULL,
		otp_secret VARCHAR, roles JSON NOT NULL, description VARCHAR, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
		is_external_only BOOLEAN NOT NULL, is_active BOOLEAN NOT NULL, user_history JSON NOT NULL, blocked_uuids JSON NOT NULL,
		profile_picture_id INTEGER REFERENCES files (id))`,
	`CREATE TABLE files (id INTEGER NOT NULL PRIMARY KEY, file_name VARCHAR NOT NULL UNIQUE, file_type VARCHAR NOT NULL,
		file_path VARCHAR NOT NULL, description VARCHAR, created_at INTEGER NOT NULL, created_by_uuid VARCHAR NOT NULL REFERENCES users (uuid))`,
	`CREATE TABLE external_accounts (external_account_id VARCHAR NOT NULL PRIMARY KEY, provider VARCHAR NOT NULL, username VARCHAR,
		display_name VARCHAR, email VARCHAR, picture_url VARCHAR, user_uuid VARCHAR NOT NULL REFERENCES users (uuid))`,
	`CREATE TABLE oauth_tokens (id INTEGER NOT NULL PRIMARY KEY, oauth_version VARCHAR(1), provider VARCHAR(40), oauth_token VARCHAR,
		oauth_token_secret VARCHAR, token_type VARCHAR(40), access_token VARCHAR, refresh_token VARCHAR, expires_at INTEGER,
		user_uuid VARCHAR NOT NULL REFERENCES users (uuid))`,
	`CREATE TABLE users_files_links (user_uuid VARCHAR REFERENCES users (uuid), file_id INTEGER REFERENCES files (id))`,
}

// Issue 15 item 15: `server import-reference` brings the Python service's
// Project.db (and its data/ folder) into the server's empty database, and
// its users log in with their old password and authenticator.
func TestImportReferenceCommand(t *testing.T) {
	ctx := context.Background()
	const (
		jane     = "5e1f0000-0000-4000-8000-000000000002"
		password = "Old-Passw0rd!"
		secret   = "KzQwErTyUiOpAsDfGhJkLzXcVbNmQwEr" // the reference's: 32 letters, mixed case
		cv       = "%PDF-1.4 jane's cv"
	)
	refData := t.TempDir() // the reference's data/ folder
	refDB := filepath.Join(refData, "Project.db")
	db, err := sql.Open("sqlite", refDB) // the driver the store links
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range referenceSchema {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	hash, err := usermgmt.NewBcryptHasher(4, 1).Hash(ctx, password)
	if err != nil {
		t.Fatal(err)
	}
	hash = "$2b$" + strings.TrimPrefix(hash, "$2a$") // Python's bcrypt spelling
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users VALUES (?, 'jane_doe', 'Jane Doe', 'jane@example.com', 1, ?, 'authenticator', ?, '["user"]', NULL,
			1700000000, 1700000000, 0, 1, '[{"time": "2024-11-02 10:00:00 UTC", "action": "email-verified", "description": "Email verified", "by": "5e1f0000-0000-4000-8000-000000000002"}]', '[]', NULL)`,
			[]any{jane, hash, secret}},
		{`INSERT INTO files VALUES (1, 'cv.pdf', 'pdf', ?, NULL, 1700000100, ?)`, []any{"/app/data/users/" + jane + "/cv.pdf", jane}},
		{`INSERT INTO users_files_links VALUES (?, 1), (?, 1)`, []any{jane, jane}},
		{`INSERT INTO external_accounts VALUES ('4242', 'github', 'janedoe', 'Jane Doe', 'jane@example.com', NULL, ?)`, []any{jane}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if err := os.MkdirAll(filepath.Join(refData, "users", jane), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(refData, "users", jane, "cv.pdf"), []byte(cv), 0o600); err != nil {
		t.Fatal(err)
	}

	vars := map[string]string{"DATA_DIR": t.TempDir(), "BCRYPT_COST": "4"}
	uri := "sqlite+aiosqlite:///" + refDB
	for _, args := range [][]string{{"import-reference"}, {"import-reference", uri, refData, "more"}} {
		if err := runCommand(ctx, args, env(vars), &bytes.Buffer{}); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want the usage", args, err)
		}
	}
	var out bytes.Buffer
	if err := runCommand(ctx, []string{"import-reference", uri, refData}, env(vars), &out); err != nil {
		t.Fatalf("import-reference: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "imported from the reference (sqlite): 1 users, 1 files, 1 external accounts, 1 history entries") {
		t.Errorf("output:\n%s", out.String())
	}
	// A second run is refused: the database holds accounts now.
	out.Reset()
	if err := runCommand(ctx, []string{"import-reference", uri}, env(vars), &out); !errors.Is(err, importref.ErrTargetNotEmpty) {
		t.Errorf("second import: %v", err)
	}

	// The server starts on the imported database (no default admin: it
	// has users) and jane logs in as she did.
	s := startServer(t, vars)
	var challenge struct {
		Code     string `json:"code"`
		OTPToken string `json:"otp_token"`
	}
	s.do(t, http.MethodPost, "/api/auth/login", "", url.Values{"username": {"jane_doe"}, "password": {password}, "grant_type": {"password"}},
		http.StatusUnauthorized, &challenge)
	if challenge.Code != usermgmt.ErrOTPRequired.Code {
		t.Fatalf("login: %+v", challenge)
	}
	bin, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("oathtool is not installed: in CI the import test must check codes with it")
		}
		t.Skip("oathtool is not installed")
	}
	code, err := exec.Command(bin, "--totp", "-b", strings.ToUpper(secret)).Output()
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	s.do(t, http.MethodPost, "/api/auth/OTP", "", url.Values{"otp_code": {strings.TrimSpace(string(code))}, "otp_token": {challenge.OTPToken}},
		http.StatusOK, &tok)
	var me struct {
		ExternalAccounts []struct{ Provider string } `json:"external_accounts"`
		Files            []struct {
			FileName string `json:"file_name"`
		} `json:"files"`
	}
	s.do(t, http.MethodGet, "/api/user/me", tok.AccessToken, nil, http.StatusOK, &me)
	if len(me.ExternalAccounts) != 1 || me.ExternalAccounts[0].Provider != "github" || len(me.Files) != 1 || me.Files[0].FileName != "cv.pdf" {
		t.Errorf("me: %+v", me)
	}
	req, _ := http.NewRequest(http.MethodGet, s.base+"/api/file/1/file", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || body.String() != cv {
		t.Errorf("file: %d %q", resp.StatusCode, body.String())
	}
}
