package store

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		dsn     string
		dialect string
		path    string
		pgURL   string
	}{
		{"sqlite://data/app.db", DialectSQLite, "data/app.db", ""},
		{"sqlite:///abs/path.db", DialectSQLite, "/abs/path.db", ""},
		{"sqlite://app.db", DialectSQLite, "app.db", ""},
		{"sqlite://./data/app.db", DialectSQLite, "./data/app.db", ""},
		{"sqlite://:memory:", DialectSQLite, ":memory:", ""},
		{"SQLite://data/app.db", DialectSQLite, "data/app.db", ""},
		{"sqlite://data/my app.db", DialectSQLite, "data/my app.db", ""},
		{"sqlite+aiosqlite:///data/x.db", DialectSQLite, "data/x.db", ""},
		{"sqlite+aiosqlite:////srv/app/data/Project.db", DialectSQLite, "/srv/app/data/Project.db", ""},
		{"sqlite+aiosqlite:///:memory:", DialectSQLite, ":memory:", ""},
		{"sqlite+aiosqlite://", DialectSQLite, ":memory:", ""},
		{"postgres://u:p@db.example.com:5432/app?sslmode=disable", DialectPostgres, "", "postgresql://u:p@db.example.com:5432/app?sslmode=disable"},
		{"postgresql://u@localhost/app", DialectPostgres, "", "postgresql://u@localhost/app"},
		{"postgresql+psycopg://u:p@db:5432/app", DialectPostgres, "", "postgresql://u:p@db:5432/app"},
		{"postgresql+psycopg2://u:p@db/app", DialectPostgres, "", "postgresql://u:p@db/app"},
		{"POSTGRES://u@h/app", DialectPostgres, "", "postgresql://u@h/app"},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			got, err := parseDSN(tt.dsn)
			if err != nil {
				t.Fatalf("parseDSN: %v", err)
			}
			if got.dialect != tt.dialect || got.path != tt.path || got.pgURL != tt.pgURL {
				t.Errorf("parseDSN = %+v, want {dialect:%s path:%s pgURL:%s}", got, tt.dialect, tt.path, tt.pgURL)
			}
		})
	}
}

func TestParseDSNRejects(t *testing.T) {
	tests := []struct {
		dsn  string
		want string // in the error
	}{
		{"", "no scheme"},
		{"data/app.db", "no scheme"},
		{"user:secret@host/db", "no scheme"},
		{"://x", "no scheme"},
		{"mysql://u:secret@h/db", `unsupported scheme "mysql"`},
		{"postgresql+asyncpg://u:secret@h/db", "unsupported scheme"},
		{"sqlite+pysqlite:///x.db", "unsupported scheme"},
		{"sqlite://", "names no SQLite file"},
		{"sqlite://data/", "directory"},
		{"sqlite://data/app.db?mode=ro", "query parameters"},
		{"sqlite://data/app.db#x", "query parameters"},
		{"sqlite://a\x00b", "NUL"},
		{"sqlite+aiosqlite://host/x.db", "three slashes"},
		{"sqlite+aiosqlite:///", "names no SQLite file"},
		{"postgres://u:secret@host:port/db", "malformed"},
		{"postgres://u:secret@[::1/db", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			_, err := parseDSN(tt.dsn)
			if err == nil {
				t.Fatal("parseDSN accepted it")
			}
			if !errors.Is(err, ErrBadDSN) {
				t.Errorf("error %v does not wrap ErrBadDSN", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"sqlite://data/app.db", "sqlite+aiosqlite:////x.db", "postgres://u:p@h/db", "sqlite://:memory:", "x://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		got, err := parseDSN(dsn)
		if err != nil {
			return
		}
		switch got.dialect {
		case DialectSQLite:
			if got.path == "" || strings.ContainsAny(got.path, "?#\x00") {
				t.Errorf("parseDSN(%q) accepted path %q", dsn, got.path)
			}
		case DialectPostgres:
			if !strings.HasPrefix(got.pgURL, "postgresql://") {
				t.Errorf("parseDSN(%q) gave pgURL %q", dsn, got.pgURL)
			}
		default:
			t.Errorf("parseDSN(%q) gave dialect %q", dsn, got.dialect)
		}
	})
}
