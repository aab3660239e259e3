package importref_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The reference's schema (seed-api.md section 2.1) as SQLAlchemy's
// create_all writes it on each database: VARCHAR columns, JSON columns
// (TEXT on SQLite), unix-second INTEGER times, and the link table without
// a key.
var refDDL = map[string][]string{
	"sqlite": {
		`CREATE TABLE files (id INTEGER NOT NULL, file_name VARCHAR NOT NULL, file_type VARCHAR NOT NULL, file_path VARCHAR NOT NULL,
			description VARCHAR, created_at INTEGER NOT NULL, created_by_uuid VARCHAR NOT NULL,
			PRIMARY KEY (id), UNIQUE (file_name), FOREIGN KEY(created_by_uuid) REFERENCES users (uuid))`,
		`CREATE TABLE users (uuid VARCHAR(36) NOT NULL, username VARCHAR NOT NULL, display_name VARCHAR NOT NULL, email VARCHAR NOT NULL,
			email_verified BOOLEAN NOT NULL, hashed_password VARCHAR NOT NULL, otp_method VARCHAR NOT NULL, otp_secret VARCHAR,
			roles JSON NOT NULL, description VARCHAR, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
			is_external_only BOOLEAN NOT NULL, is_active BOOLEAN NOT NULL, user_history JSON NOT NULL, blocked_uuids JSON NOT NULL,
			profile_picture_id INTEGER, PRIMARY KEY (uuid), UNIQUE (username), UNIQUE (email), FOREIGN KEY(profile_picture_id) REFERENCES files (id))`,
		`CREATE TABLE external_accounts (external_account_id VARCHAR NOT NULL, provider VARCHAR NOT NULL, username VARCHAR,
			display_name VARCHAR, email VARCHAR, picture_url VARCHAR, user_uuid VARCHAR NOT NULL,
			PRIMARY KEY (external_account_id), FOREIGN KEY(user_uuid) REFERENCES users (uuid))`,
		`CREATE TABLE oauth_tokens (id INTEGER NOT NULL, oauth_version VARCHAR(1), provider VARCHAR(40), oauth_token VARCHAR,
			oauth_token_secret VARCHAR, token_type VARCHAR(40), access_token VARCHAR, refresh_token VARCHAR, expires_at INTEGER,
			user_uuid VARCHAR NOT NULL, PRIMARY KEY (id), FOREIGN KEY(user_uuid) REFERENCES users (uuid))`,
		`CREATE TABLE users_files_links (user_uuid VARCHAR, file_id INTEGER,
			FOREIGN KEY(user_uuid) REFERENCES users (uuid), FOREIGN KEY(file_id) REFERENCES files (id))`,
	},
	"postgres": {
		`CREATE TABLE users (uuid VARCHAR(36) NOT NULL, username VARCHAR NOT NULL, display_name VARCHAR NOT NULL, email VARCHAR NOT NULL,
			email_verified BOOLEAN NOT NULL, hashed_password VARCHAR NOT NULL, otp_method VARCHAR NOT NULL, otp_secret VARCHAR,
			roles JSON NOT NULL, description VARCHAR, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
			is_external_only BOOLEAN NOT NULL, is_active BOOLEAN NOT NULL, user_history JSON NOT NULL, blocked_uuids JSON NOT NULL,
			profile_picture_id INTEGER, PRIMARY KEY (uuid), UNIQUE (username), UNIQUE (email))`,
		`CREATE TABLE files (id SERIAL NOT NULL, file_name VARCHAR NOT NULL, file_type VARCHAR NOT NULL, file_path VARCHAR NOT NULL,
			description VARCHAR, created_at INTEGER NOT NULL, created_by_uuid VARCHAR NOT NULL REFERENCES users (uuid),
			PRIMARY KEY (id), UNIQUE (file_name))`,
		`CREATE TABLE external_accounts (external_account_id VARCHAR NOT NULL, provider VARCHAR NOT NULL, username VARCHAR,
			display_name VARCHAR, email VARCHAR, picture_url VARCHAR, user_uuid VARCHAR NOT NULL REFERENCES users (uuid),
			PRIMARY KEY (external_account_id))`,
		`CREATE TABLE oauth_tokens (id SERIAL NOT NULL, oauth_version VARCHAR(1), provider VARCHAR(40), oauth_token VARCHAR,
			oauth_token_secret VARCHAR, token_type VARCHAR(40), access_token VARCHAR, refresh_token VARCHAR, expires_at INTEGER,
			user_uuid VARCHAR NOT NULL REFERENCES users (uuid), PRIMARY KEY (id))`,
		`CREATE TABLE users_files_links (user_uuid VARCHAR REFERENCES users (uuid), file_id INTEGER REFERENCES files (id))`,
	},
}

// The fixture's accounts.
const (
	adminUUID = "0b0b0b0b-0000-4000-8000-000000000001"
	janeUUID  = "0b0b0b0b-0000-4000-8000-000000000002"
	extUUID   = "0b0b0b0b-0000-4000-8000-000000000003"
	goneUUID  = "0b0b0b0b-0000-4000-8000-0000000000ff" // a deleted user, still named in rows

	adminPassword = "changeme"
	janePassword  = "Old-Passw0rd!"
	// janeSecret is a reference TOTP secret: 32 letters of mixed case,
	// which the reference decodes as base32 after upper-casing.
	janeSecret = "KzQwErTyUiOpAsDfGhJkLzXcVbNmQwEr"

	pictureBytes = "\x89PNG\r\n\x1a\n fixture picture"
	cvBytes      = "%PDF-1.4 fixture cv"
)

// refRow is one row to insert into the fixture.
type refRow struct {
	table string
	cols  []string
	vals  []any
}

// refHash is a bcrypt hash in the reference's $2b$ spelling.
func refHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), 4)
	if err != nil {
		t.Fatal(err)
	}
	return "$2b$" + strings.TrimPrefix(string(h), "$2a$")
}

func userRow(t testing.TB, uuid, username, display, email, hash, method string, secret any, roles, history, blocked string, pic any) refRow {
	t.Helper()
	return refRow{"users", []string{"uuid", "username", "display_name", "email", "email_verified", "hashed_password", "otp_method",
		"otp_secret", "roles", "description", "created_at", "updated_at", "is_external_only", "is_active", "user_history",
		"blocked_uuids", "profile_picture_id"},
		[]any{uuid, username, display, email, true, hash, method, secret, roles, nil, 1700000000, 1700000500, hash == "ThirdPartyOnlyAcc",
			true, history, blocked, pic}}
}

// fixtureRows is the reference content: the default admin (placeholder
// secret, method none), jane with an authenticator, a GitHub account, a
// profile picture and a file (linked twice, as the reference does), an
// OAuth-created account, and the reference's dangling rows.
func fixtureRows(t *testing.T, dataDir string) []refRow {
	t.Helper()
	janeHistory := `[{"time": "2024-11-02 10:00:00 UTC", "action": "email-verified", "description": "Email verified", "by": "` + janeUUID + `"},
		{"time": "2024-11-03 11:30:00 UTC", "action": "Forgot password request", "description": "Forgot password request", "by": "<logged out user>"},
		{"time": "2024-11-04 12:00:00 UTC", "action": "ban", "description": "spam", "by": "` + adminUUID + `"}]`
	return []refRow{
		userRow(t, adminUUID, "admin", "Admin", "admin@example.com", refHash(t, adminPassword), "none", "changeme",
			`["admin", "moderator", "user"]`, `[]`, `[]`, nil),
		userRow(t, janeUUID, "jane_doe", "Jane Doe", "Jane@Example.com", refHash(t, janePassword), "authenticator", janeSecret,
			`["user"]`, janeHistory, `["`+extUUID+`", "`+goneUUID+`"]`, 1),
		userRow(t, extUUID, "octo_cat", "Octo Cat", "octo@example.com", "ThirdPartyOnlyAcc", "email", nil,
			`["user"]`, `[]`, `[]`, 7), // 7: a deleted picture (the reference leaves the id)
		{"files", []string{"id", "file_name", "file_type", "file_path", "description", "created_at", "created_by_uuid"},
			[]any{1, "pfp_" + janeUUID + ".png", "png", filepath.Join(dataDir, "users", adminUUID, "pfp_"+janeUUID+".png"), "Profile picture", 1700000100, adminUUID}},
		{"files", []string{"id", "file_name", "file_type", "file_path", "description", "created_at", "created_by_uuid"},
			[]any{2, "cv.pdf", "pdf", filepath.Join(dataDir, "users", janeUUID, "cv.pdf"), nil, 1700000200, janeUUID}},
		{"users_files_links", []string{"user_uuid", "file_id"}, []any{janeUUID, 1}},
		{"users_files_links", []string{"user_uuid", "file_id"}, []any{janeUUID, 2}},
		{"users_files_links", []string{"user_uuid", "file_id"}, []any{janeUUID, 2}},
		{"external_accounts", []string{"external_account_id", "provider", "username", "display_name", "email", "picture_url", "user_uuid"},
			[]any{"4242", "github", "janedoe", "Jane Doe", "jane@example.com", "https://avatars.example/4242.png", janeUUID}},
		{"external_accounts", []string{"external_account_id", "provider", "username", "display_name", "email", "picture_url", "user_uuid"},
			[]any{"g-77", "google", "octo_cat", "Octo Cat", "octo@example.com", nil, extUUID}},
		{"oauth_tokens", []string{"id", "oauth_version", "provider", "token_type", "access_token", "refresh_token", "expires_at", "user_uuid"},
			[]any{1, "2", "google", "Bearer", "ya29.secret", "1//refresh", 1700003600, extUUID}},
	}
}

// writeFixtureFiles puts the reference's file contents in its data
// directory layout (users/<uploader>/<file_name>).
func writeFixtureFiles(t *testing.T, dataDir string) {
	t.Helper()
	for p, body := range map[string]string{
		filepath.Join("users", adminUUID, "pfp_"+janeUUID+".png"): pictureBytes,
		filepath.Join("users", janeUUID, "cv.pdf"):                cvBytes,
	} {
		full := filepath.Join(dataDir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// buildFixture creates the reference schema in db and inserts rows.
func buildFixture(t testing.TB, db execer, dialect string, rows []refRow) {
	t.Helper()
	ctx := context.Background()
	for _, ddl := range refDDL[dialect] {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			t.Fatalf("fixture DDL: %v\n%s", err, ddl)
		}
	}
	insertRows(t, db, dialect, rows)
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertRows(t testing.TB, db execer, dialect string, rows []refRow) {
	t.Helper()
	for _, r := range rows {
		marks := make([]string, len(r.cols))
		for i := range marks {
			marks[i] = "?"
			if dialect == "postgres" {
				marks[i] = fmt.Sprintf("$%d", i+1)
			}
		}
		q := "INSERT INTO " + r.table + " (" + strings.Join(r.cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
		if _, err := db.ExecContext(context.Background(), q, r.vals...); err != nil {
			t.Fatalf("fixture insert into %s: %v", r.table, err)
		}
	}
}
