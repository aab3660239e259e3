package importref_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools/importref"
	"github.com/usermgmt/usermgmt/hashers"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store/postgres"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// withUser returns the fixture rows with the users row of uuid changed.
func withUser(rows []refRow, uuid, col string, v any) []refRow {
	out := append([]refRow(nil), rows...)
	for i, r := range out {
		if r.table != "users" || r.vals[0] != uuid {
			continue
		}
		vals := append([]any(nil), r.vals...)
		for j, c := range r.cols {
			if c == col {
				vals[j] = v
			}
		}
		out[i].vals = vals
	}
	return out
}

// assertEmpty fails unless the target holds no user, file or linked
// account, and its storage no content.
func assertEmpty(t *testing.T, tg *target) {
	t.Helper()
	n, err := tg.m.CountUsers(context.Background())
	if err != nil || n != 0 {
		t.Errorf("target holds %d users (%v) after a refused import", n, err)
	}
	_ = filepath.WalkDir(tg.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("target storage holds %s after a refused import", p)
		}
		return nil
	})
}

// TestImportRefusesBadRows: a malformed hash, email, username, secret or
// role names its table, row and key, and nothing is written.
func TestImportRefusesBadRows(t *testing.T) {
	dataDir := t.TempDir()
	writeFixtureFiles(t, dataDir)
	base := fixtureRows(t, dataDir)
	missingFile := append(append([]refRow(nil), base...), refRow{"files",
		[]string{"id", "file_name", "file_type", "file_path", "description", "created_at", "created_by_uuid"},
		[]any{3, "lost.txt", "txt", "/srv/data/users/" + janeUUID + "/lost.txt", nil, 1700000300, janeUUID}})
	for _, tc := range []struct {
		name  string
		rows  []refRow
		table string
		row   int
		parts []string
	}{
		{"malformed hash", withUser(base, janeUUID, "hashed_password", "$2b$12$not-a-bcrypt-hash"), "users", 2,
			[]string{"Table users, row 2 (uuid " + janeUUID + ")", "password hash is refused"}},
		{"bcrypt cost too high", withUser(base, janeUUID, "hashed_password", strings.Replace(base[1].vals[5].(string), "$04$", "$31$", 1)), "users", 2,
			[]string{"Table users, row 2 (uuid " + janeUUID + ")", "bcrypt cost 31 is over 14"}},
		{"plain-text password", withUser(base, adminUUID, "hashed_password", "changeme"), "users", 1,
			[]string{"Table users, row 1 (uuid " + adminUUID + ")", "password hash is refused"}},
		{"malformed email", withUser(base, extUUID, "email", "octo at example"), "users", 3,
			[]string{"Table users, row 3 (uuid " + extUUID + ")", `the email "octo at example" is not a valid address`}},
		{"emails equal but for case", withUser(base, extUUID, "email", "JANE@example.COM"), "users", 3,
			[]string{"row 3", "also row 2's"}},
		{"username our rules refuse", withUser(base, extUUID, "username", "Octo-Cat"), "users", 3,
			[]string{"row 3", `username "Octo-Cat" is refused`}},
		{"unusable TOTP secret", withUser(base, janeUUID, "otp_secret", "changeme"), "users", 2,
			[]string{"row 2", "otp_secret is not a usable TOTP secret"}},
		{"unknown role", withUser(base, janeUUID, "roles", `["user", "root"]`), "users", 2,
			[]string{"row 2", `role "root"`}},
		{"history not a list", withUser(base, janeUUID, "user_history", `{"time": 1}`), "users", 2,
			[]string{"row 2", "user_history is not a JSON list"}},
		{"file content missing", missingFile, "files", 3,
			[]string{"Table files, row 3 (id 3)", "its content is not in the data directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri := sqliteReference(t, tc.rows)
			tg := sqliteTarget(t)
			_, err := importref.Import(context.Background(), tg.m, tg.tools, openSource(t, uri), importref.Options{FilesDir: dataDir})
			ue := errorIs(t, err, importref.ErrInvalidRow, tc.parts...)
			if ue.Params["table"] != tc.table || ue.Params["row"] != tc.row || ue.Status != 422 {
				t.Errorf("params %v status %d", ue.Params, ue.Status)
			}
			assertEmpty(t, tg)
		})
	}
}

// TestImportRefusesOtherSchemas: a database that is not the reference's,
// on SQLite and PostgreSQL, is refused with the missing table or column.
func TestImportRefusesOtherSchemas(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite without the reference tables", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "other.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		tg := sqliteTarget(t)
		_, err = importref.Import(ctx, tg.m, tg.tools, openSource(t, "sqlite://"+path), importref.Options{})
		errorIs(t, err, importref.ErrNotReference, `no table "users"`)
		assertEmpty(t, tg)
	})
	// Our own schema has a users table, but not the reference's columns.
	for _, tc := range []struct {
		name string
		open func(t *testing.T) string // creates a usermgmt database, returns its URI
	}{
		{"sqlite usermgmt database", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "ours.db")
			st, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			st.Close()
			return path
		}},
		{"postgres usermgmt database", func(t *testing.T) string {
			dsn := testpg.DSN(t)
			st, err := postgres.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			st.Close()
			return dsn
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri := tc.open(t)
			tg := sqliteTarget(t)
			_, err := importref.Import(ctx, tg.m, tg.tools, openSource(t, uri), importref.Options{})
			errorIs(t, err, importref.ErrNotReference, `table "users" has no column "hashed_password"`)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "Project.db")
		if _, err := importref.Open(ctx, "sqlite+aiosqlite:///"+path); err == nil {
			t.Fatal("opened a missing file")
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Open created %s", path)
		}
	})
	t.Run("bad URIs", func(t *testing.T) {
		for _, uri := range []string{"mysql://u:secret@h/db", "sqlite+aiosqlite://relative.db", "sqlite://", "postgresql://u:secret@%zz/db"} {
			_, err := importref.Open(ctx, uri)
			if !errors.Is(err, importref.ErrBadURI) || strings.Contains(err.Error(), "secret") {
				t.Errorf("Open(%q): %v", uri, err)
			}
		}
	})
	t.Run("postgres database missing", func(t *testing.T) {
		// The fixture server, a database it lacks: the error names neither
		// the password nor anything but the failure.
		u, err := url.Parse(testpg.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), "s3cret-pw")
		u.Path = "/no_such_reference"
		_, err = importref.Open(ctx, strings.Replace(u.String(), "postgres://", "postgresql+psycopg://", 1))
		if err == nil || strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "no_such_reference") {
			t.Errorf("missing PostgreSQL database: %v", err)
		}
	})
}

// TestImportRefusesNonEmptyTarget: a second import, or an import into a
// database with accounts, is refused and changes nothing.
func TestImportRefusesNonEmptyTarget(t *testing.T) {
	ctx := context.Background()
	uri := sqliteReference(t, fixtureRows(t, "/srv/data"))
	tg := sqliteTarget(t)
	if _, err := importref.Import(ctx, tg.m, tg.tools, openSource(t, uri), importref.Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := importref.Import(ctx, tg.m, tg.tools, openSource(t, uri), importref.Options{})
	errorIs(t, err, importref.ErrTargetNotEmpty, "3 users row(s)")
	if n, _ := tg.m.CountUsers(ctx); n != 3 {
		t.Errorf("%d users after the refused second import", n)
	}

	other := sqliteTarget(t)
	if _, err := other.m.CreateUser(ctx, usermgmt.NewUser{Username: "someone", Email: "someone@example.com", Password: "Correct-Horse-9", EmailVerified: true}); err != nil {
		t.Fatal(err)
	}
	_, err = importref.Import(ctx, other.m, other.tools, openSource(t, uri), importref.Options{})
	errorIs(t, err, importref.ErrTargetNotEmpty)
	if _, err := other.m.UserByLogin(ctx, "jane_doe"); !errors.Is(err, usermgmt.ErrUserNotFound) {
		t.Errorf("jane_doe after the refused import: %v", err)
	}
}

// TestImportWithHashValidator: with package hashers' Hasher (a
// HashValidator), the reference's $2b$ hashes pass, log in and are
// rehashed to the configured scheme; a bcrypt hash outside its limits
// (which bcrypt itself would parse) is refused with its row.
func TestImportWithHashValidator(t *testing.T) {
	ctx := context.Background()
	h, err := hashers.New(hashers.Options{Algorithm: hashers.Argon2id, MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	rows := fixtureRows(t, "/srv/data")
	tg := sqliteTarget(t, usermgmt.WithHasher(h))
	if _, err := importref.Import(ctx, tg.m, tg.tools, openSource(t, sqliteReference(t, rows)), importref.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.m.Login(ctx, "admin", adminPassword); err != nil {
		t.Fatalf("admin login: %v", err)
	}
	admin, err := tg.m.UserByLogin(ctx, "admin")
	if err != nil || !strings.HasPrefix(admin.PasswordHash, "$argon2id$") {
		t.Errorf("admin hash after login: %q, %v", admin.PasswordHash, err)
	}

	var tooCostly string
	for _, r := range rows {
		if r.table == "users" && r.vals[0] == janeUUID {
			tooCostly = strings.Replace(r.vals[5].(string), "$04$", "$20$", 1) // cost 20: over MaxBcryptCost
		}
	}
	tg = sqliteTarget(t, usermgmt.WithHasher(h))
	_, err = importref.Import(ctx, tg.m, tg.tools, openSource(t, sqliteReference(t, withUser(rows, janeUUID, "hashed_password", tooCostly))), importref.Options{})
	errorIs(t, err, importref.ErrInvalidRow, "Table users, row 2 (uuid "+janeUUID+")", "password hash is refused")
	assertEmpty(t, tg)
}
