package importref_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/usermgmt/usermgmt/dbtools/importref"
)

// BenchmarkImportSQLite imports a reference Project.db of benchUsers users
// (each with a bcrypt hash, an authenticator secret, three history
// entries, a file and a GitHub account) into an empty SQLite target: what
// a migration costs, per run.
func BenchmarkImportSQLite(b *testing.B) {
	const benchUsers = 1000
	t := b
	hash := refHash(t, janePassword)
	path := filepath.Join(b.TempDir(), "Project.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	var rows []refRow
	history := `[{"time": "2024-11-02 10:00:00 UTC", "action": "email-verified", "description": "Email verified", "by": "x"},
		{"time": "2024-11-03 11:30:00 UTC", "action": "profile-updated", "description": "Profile updated", "by": "x"},
		{"time": "2024-11-04 12:00:00 UTC", "action": "ban", "description": "spam", "by": "` + adminUUID + `"}]`
	for i := range benchUsers {
		id := fmt.Sprintf("0b0b0b0b-0000-4000-8000-%012d", i+1)
		rows = append(rows,
			userRow(t, id, fmt.Sprintf("user_%05d", i), fmt.Sprintf("User_%05d", i), fmt.Sprintf("user%d@example.com", i), hash,
				"authenticator", janeSecret, `["user"]`, history, `[]`, nil),
			refRow{"files", []string{"id", "file_name", "file_type", "file_path", "description", "created_at", "created_by_uuid"},
				[]any{i + 1, fmt.Sprintf("cv_%d.pdf", i), "pdf", "/srv/data/users/" + id + "/cv.pdf", nil, 1700000200, id}},
			refRow{"users_files_links", []string{"user_uuid", "file_id"}, []any{id, i + 1}},
			refRow{"external_accounts", []string{"external_account_id", "provider", "username", "display_name", "email", "picture_url", "user_uuid"},
				[]any{fmt.Sprint(1000 + i), "github", "u", "U", "u@example.com", nil, id}})
	}
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	buildFixture(b, tx, "sqlite", rows)
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	db.Close()
	ctx := context.Background()
	src, err := importref.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		tg := sqliteTarget(b)
		b.StartTimer()
		rep, err := importref.Import(ctx, tg.m, tg.tools, src, importref.Options{})
		if err != nil || rep.Users != benchUsers {
			b.Fatalf("%v %+v", err, rep)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*benchUsers), "µs/user")
}
